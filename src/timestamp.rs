//! Parsing the timestamp header and checking it against the tolerance window.

use core::ops::RangeInclusive;
use core::time::Duration;

use time::PrimitiveDateTime;

use crate::error::Error;

/// The Unix timestamps that `time::OffsetDateTime` can represent (with the `time` features
/// this build has), so that a verified timestamp always converts.
pub(crate) const DATE_RANGE: RangeInclusive<i64> =
    PrimitiveDateTime::MIN.assume_utc().unix_timestamp()
        ..=PrimitiveDateTime::MAX.assume_utc().unix_timestamp();

/// Parses a canonical decimal integer: `-?(0|[1-9][0-9]*)`, ASCII only.
///
/// Values beyond the range of `i64` saturate to `i64::MIN` / `i64::MAX`: they are integers, just
/// absurdly far from now, and the window check rejects them (unless the tolerance is unbounded,
/// in which case the conversion to a date-time rejects them).
pub(crate) fn parse(raw: &[u8]) -> Option<i64> {
    let (negative, digits) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, raw),
    };
    match digits {
        [] => return None,
        [b'0'] if negative => return None,
        [b'0', _, ..] => return None,
        _ => {}
    }
    // Up to 18 digits cannot overflow: a plain multiply-add chain, and one check that every
    // byte was a digit.
    if digits.len() <= 18 {
        let mut value: i64 = 0;
        let mut all_digits = true;
        for &byte in digits {
            all_digits &= byte.is_ascii_digit();
            // Wrapping: a non-digit byte adds up to 255 and may overflow; the value is then
            // discarded. With digits only, 18 of them cannot overflow.
            value = value
                .wrapping_mul(10)
                .wrapping_add(i64::from(byte.wrapping_sub(b'0')));
        }
        return all_digits.then_some(if negative { -value } else { value });
    }
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(byte - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    Some(value)
}

/// Checks `|now - ts| <= tolerance` (whole seconds, inclusive), without overflow.
pub(crate) fn check_window(ts: i64, now: i64, tolerance: Duration) -> Result<(), Error> {
    let tolerance_secs = tolerance.as_secs();
    let skew = i128::from(now) - i128::from(ts);
    let magnitude = skew.unsigned_abs();
    if magnitude <= u128::from(tolerance_secs) {
        return Ok(());
    }
    let skew_secs = u64::try_from(magnitude).unwrap_or(u64::MAX);
    if skew > 0 {
        Err(Error::TimestampTooOld {
            skew_secs,
            tolerance_secs,
        })
    } else {
        Err(Error::TimestampTooNew {
            skew_secs,
            tolerance_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_parse() {
        assert_eq!(parse(b"0"), Some(0));
        assert_eq!(parse(b"1614265330"), Some(1_614_265_330));
        assert_eq!(parse(b"-5"), Some(-5));
        assert_eq!(parse(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse(b"99999999999999999999999"), Some(i64::MAX));
        assert_eq!(parse(b"-99999999999999999999999"), Some(i64::MIN));
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"-01",
            b"1.5",
            b"1e9",
            b"0x10",
            b"1_000",
            "١٢٣".as_bytes(),
            "１２３".as_bytes(),
            b"--1",
            b"1-",
            b"\x001",
            // Non-digits that would overflow a plain multiply-add of 18 places (found by the
            // `verify_at` fuzz target).
            &[0xff; 18],
            b"1zzzzzzzzzzzzzzzzz",
            b"-\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn window_is_inclusive_in_both_directions() {
        let tol = Duration::from_secs(300);
        assert!(check_window(1000, 1300, tol).is_ok());
        assert!(check_window(1300, 1000, tol).is_ok());
        assert_eq!(
            check_window(999, 1300, tol),
            Err(Error::TimestampTooOld {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            check_window(1301, 1000, tol),
            Err(Error::TimestampTooNew {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        // Sub-second tolerance parts cannot matter to whole-second skews.
        assert!(check_window(999, 1300, Duration::from_millis(300_999)).is_err());
    }

    #[test]
    fn date_range_is_what_offset_date_time_holds() {
        use time::OffsetDateTime;
        let (min, max) = (*DATE_RANGE.start(), *DATE_RANGE.end());
        assert!(OffsetDateTime::from_unix_timestamp(min).is_ok());
        assert!(OffsetDateTime::from_unix_timestamp(max).is_ok());
        assert!(OffsetDateTime::from_unix_timestamp(min - 1).is_err());
        assert!(OffsetDateTime::from_unix_timestamp(max + 1).is_err());
    }

    #[test]
    fn extremes_do_not_overflow() {
        let zero = Duration::ZERO;
        assert!(check_window(5, 5, zero).is_ok());
        assert!(check_window(4, 5, zero).is_err());
        assert_eq!(
            check_window(i64::MIN, i64::MAX, zero),
            Err(Error::TimestampTooOld {
                skew_secs: u64::MAX,
                tolerance_secs: 0
            })
        );
        assert!(check_window(i64::MAX, i64::MIN, zero).is_err());
        assert!(check_window(i64::MIN, i64::MAX, Duration::MAX).is_ok());
    }
}
