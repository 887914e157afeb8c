//! Which channels one page uses, and when: the person's notification rules, or their default.
//!
//! Without rules a person is reached on every contact method at once (having added a method
//! is a clear enough wish), and without methods at their catalog email address: a person the
//! engine pages is never silently unreachable. A method named by several rules is used at
//! each rule's delay ("Slack now, Slack again after 5 minutes" is a valid wish).

/// One message to queue for a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// None: the default channel (email to the person's catalog address).
    pub method: Option<String>,
    /// webhook, slack, mattermost or email.
    pub channel: String,
    pub delay_minutes: u32,
}

/// The messages for a page from the person's `methods` (`(id, kind)`) and `rules`
/// (`(method id, delay minutes)`), earliest first.
pub fn plan(methods: &[(String, String)], rules: &[(String, i64)]) -> Vec<Planned> {
    let kind_of = |id: &str| {
        methods
            .iter()
            .find(|(m, _)| m == id)
            .map(|(_, k)| k.clone())
    };
    let mut out: Vec<Planned> = if rules.is_empty() {
        methods
            .iter()
            .map(|(id, kind)| Planned {
                method: Some(id.clone()),
                channel: kind.clone(),
                delay_minutes: 0,
            })
            .collect()
    } else {
        rules
            .iter()
            .filter_map(|(id, delay)| {
                Some(Planned {
                    channel: kind_of(id)?,
                    method: Some(id.clone()),
                    delay_minutes: u32::try_from(*delay).unwrap_or(u32::MAX),
                })
            })
            .collect()
    };
    if out.is_empty() {
        out.push(Planned {
            method: None,
            channel: "email".into(),
            delay_minutes: 0,
        });
    }
    out.sort_by(|a, b| (a.delay_minutes, &a.method).cmp(&(b.delay_minutes, &b.method)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, kind: &str) -> (String, String) {
        (id.into(), kind.into())
    }

    #[test]
    fn rules_give_each_method_at_its_delay() {
        let methods = [m("slack1", "slack"), m("mail1", "email")];
        let rules = [("mail1".to_string(), 2), ("slack1".to_string(), 0)];
        let p = plan(&methods, &rules);
        let got: Vec<(&str, u32)> = p
            .iter()
            .map(|x| (x.channel.as_str(), x.delay_minutes))
            .collect();
        assert_eq!(got, [("slack", 0), ("email", 2)]);
    }

    #[test]
    fn no_rules_means_every_method_at_once_and_no_methods_means_email() {
        let p = plan(&[m("w", "webhook"), m("s", "slack")], &[]);
        assert!(p.iter().all(|x| x.delay_minutes == 0));
        assert_eq!(p.len(), 2);
        let d = plan(&[], &[]);
        assert_eq!(
            d,
            [Planned {
                method: None,
                channel: "email".into(),
                delay_minutes: 0
            }]
        );
    }
}
