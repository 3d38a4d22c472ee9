//! Event-type patterns, with the meaning senders give them in subscriptions.

use core::fmt;
use core::str::FromStr;

/// One event-type pattern: `resource.action`, `resource.*` or `*`.
///
/// Parsed with [`str::parse`]; see [`EventRoutes`] for routing with them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventPattern(Kind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    /// `*`
    All,
    /// `resource.*`, stored as `resource.` (with the dot).
    Resource(Box<str>),
    /// An exact type.
    Exact(Box<str>),
}

/// Why a string is not an event-type pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is empty.
    #[error("empty event-type pattern")]
    Empty,
    /// A `*` stands somewhere other than alone or as the whole last segment (`loan.*`).
    #[error("`*` may only be the whole pattern or its whole last segment (`loan.*`)")]
    MisplacedWildcard,
    /// The pattern holds whitespace, a control character, or an empty segment (`loan..x`,
    /// `.loan`, `loan.`).
    #[error("event-type pattern has an empty segment, whitespace or a control character")]
    Malformed,
}

impl EventPattern {
    /// Whether an event of type `event_type` matches: equal to an exact pattern, starting
    /// with `resource.` and something after it for `resource.*`, anything for `*`.
    pub fn matches(&self, event_type: &str) -> bool {
        match &self.0 {
            Kind::All => true,
            Kind::Resource(prefix) => event_type
                .strip_prefix(&**prefix)
                .is_some_and(|rest| !rest.is_empty()),
            Kind::Exact(exact) => **exact == *event_type,
        }
    }

    /// How specific the pattern is: exact before resource wildcard before `*`, and among
    /// resource wildcards the longer prefix (of two that match the same type, one is a
    /// prefix of the other: `loan.fee.*` is narrower than `loan.*`).
    fn specificity(&self) -> (u8, usize) {
        match &self.0 {
            Kind::All => (0, 0),
            Kind::Resource(prefix) => (1, prefix.len()),
            Kind::Exact(_) => (2, 0),
        }
    }
}

impl FromStr for EventPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(PatternError::Empty);
        }
        if s == "*" {
            return Ok(Self(Kind::All));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PatternError::Malformed);
        }
        let (fixed, wildcard) = match s.strip_suffix(".*") {
            Some(resource) => (resource, true),
            None => (s, false),
        };
        if fixed.contains('*') {
            return Err(PatternError::MisplacedWildcard);
        }
        if fixed.split('.').any(str::is_empty) {
            return Err(PatternError::Malformed);
        }
        Ok(Self(if wildcard {
            Kind::Resource(format!("{fixed}.").into_boxed_str())
        } else {
            Kind::Exact(fixed.into())
        }))
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::All => f.write_str("*"),
            Kind::Resource(prefix) => write!(f, "{prefix}*"),
            Kind::Exact(exact) => f.write_str(exact),
        }
    }
}

/// Routes event types to values (handlers, queues, enum tags) by [`EventPattern`].
///
/// The most specific matching pattern wins: an exact type before a resource wildcard, a
/// narrower resource wildcard before a wider one (`loan.fee.*` before `loan.*`), a resource
/// wildcard before `*`; among equally specific ones (the same pattern added twice), the first
/// added.
///
/// A sender delivers to an endpoint the events whose `type` matches one of the endpoint's
/// patterns: an exact type (`customer.active`), a resource wildcard (`loan.*`: every
/// `loan.…` type), or `*` (everything). The same patterns route deliveries inside a receiver:
///
/// ```
/// use standard_webhooks::{EventPattern, EventRoutes};
///
/// let pattern: EventPattern = "loan.*".parse()?;
/// assert!(pattern.matches("loan.signed"));
/// assert!(!pattern.matches("loanword.created"));
///
/// #[derive(Debug, PartialEq)]
/// enum Handler { Loans, Activation, Audit }
///
/// let routes = EventRoutes::new()
///     .route("*", Handler::Audit)?
///     .route("loan.*", Handler::Loans)?
///     .route("customer.active", Handler::Activation)?;
/// // The most specific pattern wins, whatever the order of the routes.
/// assert_eq!(routes.find("customer.active"), Some(&Handler::Activation));
/// assert_eq!(routes.find("loan.disbursing"), Some(&Handler::Loans));
/// assert_eq!(routes.find("customer.created"), Some(&Handler::Audit));
/// # Ok::<(), standard_webhooks::PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EventRoutes<T> {
    routes: Vec<(EventPattern, T)>,
}

impl<T> Default for EventRoutes<T> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<T> EventRoutes<T> {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; fails if `pattern` is not a valid pattern.
    pub fn route(mut self, pattern: &str, value: T) -> Result<Self, PatternError> {
        self.routes.push((pattern.parse()?, value));
        Ok(self)
    }

    /// Adds a route with a pattern parsed already.
    pub fn route_pattern(mut self, pattern: EventPattern, value: T) -> Self {
        self.routes.push((pattern, value));
        self
    }

    /// The value of the most specific pattern that matches `event_type`.
    pub fn find(&self, event_type: &str) -> Option<&T> {
        let mut best: Option<&(EventPattern, T)> = None;
        for route in self.routes.iter().filter(|(p, _)| p.matches(event_type)) {
            if best.is_none_or(|b| route.0.specificity() > b.0.specificity()) {
                best = Some(route);
            }
        }
        best.map(|(_, value)| value)
    }

    /// Whether any pattern matches `event_type`: whether a sender subscribed with these
    /// patterns would deliver it.
    pub fn matches(&self, event_type: &str) -> bool {
        self.routes.iter().any(|(p, _)| p.matches(event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> EventPattern {
        s.parse().unwrap()
    }

    #[test]
    fn patterns_match_like_a_subscription() {
        assert!(p("customer.active").matches("customer.active"));
        assert!(!p("customer.active").matches("customer.active.x"));
        assert!(!p("customer.active").matches("customer"));
        assert!(p("loan.*").matches("loan.created"));
        assert!(p("loan.*").matches("loan.payment_received"));
        assert!(!p("loan.*").matches("loan"));
        assert!(!p("loan.*").matches("loan."));
        assert!(!p("loan.*").matches("loans.created"));
        assert!(!p("loan.*").matches("credit_offer.available"));
        assert!(p("*").matches("credit_offer.expired"));
        assert!(p("*").matches(""));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        assert_eq!("".parse::<EventPattern>(), Err(PatternError::Empty));
        for bad in ["lo*", "*.created", "loan.*.x", "loan**", "loan.**", "**"] {
            assert_eq!(
                bad.parse::<EventPattern>(),
                Err(PatternError::MisplacedWildcard),
                "{bad}"
            );
        }
        for bad in ["loan.", ".loan", "loan..x", "loan .x", " *", ".*", "loan\t"] {
            assert!(bad.parse::<EventPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_display_as_written() {
        for s in ["*", "loan.*", "customer.active"] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn the_most_specific_route_wins_then_the_first() {
        let routes = EventRoutes::new()
            .route("loan.*", 1)
            .unwrap()
            .route("loan.*", 2)
            .unwrap()
            .route("loan.signed", 3)
            .unwrap();
        assert_eq!(routes.find("loan.signed"), Some(&3));
        assert_eq!(routes.find("loan.active"), Some(&1));
        assert_eq!(routes.find("customer.active"), None);
        assert!(!routes.matches("customer.active"));
    }

    #[test]
    fn the_narrower_resource_wildcard_wins_in_either_order() {
        for wide_first in [true, false] {
            let (wide, narrow) = (("loan.*", 1), ("loan.fee.*", 2));
            let (a, b) = if wide_first {
                (wide, narrow)
            } else {
                (narrow, wide)
            };
            let routes = EventRoutes::new()
                .route("*", 0)
                .unwrap()
                .route(a.0, a.1)
                .unwrap()
                .route(b.0, b.1)
                .unwrap()
                .route("loan.fee.waived", 3)
                .unwrap();
            assert_eq!(routes.find("loan.fee.charged"), Some(&2), "{wide_first}");
            assert_eq!(routes.find("loan.fee.waived"), Some(&3), "{wide_first}");
            assert_eq!(routes.find("loan.signed"), Some(&1), "{wide_first}");
            assert_eq!(routes.find("loan.fee"), Some(&1), "{wide_first}");
            assert_eq!(routes.find("customer.active"), Some(&0), "{wide_first}");
        }
    }
}
