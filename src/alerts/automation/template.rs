//! The placeholders of automation actions: `{{alert.summary}}`, `{{labels.pod}}`… in an
//! action's URL, header values and body. Pure; validation uses [`check`] so a misspelt
//! placeholder is a config error at its file and line, never a surprise at 3 a.m.
//!
//! Values are escaped for where they land: inside a JSON string for a JSON body (so a summary
//! with quotes cannot break or extend the document), percent-encoded in a URL (so a label
//! cannot add a path segment or a query parameter), and with line breaks removed in a header
//! (so it cannot add another header). A label the alert lacks renders as empty text.

use std::collections::BTreeMap;

/// The fields a placeholder may name, besides `labels.NAME` and `annotations.NAME`.
pub const FIELDS: [&str; 7] = [
    "alert.id",
    "alert.summary",
    "alert.severity",
    "alert.source",
    "alert.dedup_key",
    "service.id",
    "service.name",
];

/// How rendered values are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string literal (the template supplies the quotes).
    Json,
    /// A URL: percent-encoded except unreserved characters.
    Url,
    /// A header value or plain-text body: line breaks become spaces.
    Text,
}

/// What placeholders are filled from.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub alert_id: String,
    pub summary: String,
    pub severity: String,
    pub source: String,
    pub dedup_key: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub service_id: String,
    pub service_name: String,
}

enum Part<'a> {
    Text(&'a str),
    Field(&'a str),
}

fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        parts.push(Part::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| "a placeholder opened with {{ is never closed with }}".to_string())?;
        let name = after[..close].trim();
        let known = FIELDS.contains(&name)
            || ["labels.", "annotations."].iter().any(|p| {
                name.strip_prefix(p)
                    .is_some_and(|k| !k.is_empty() && !k.contains(char::is_whitespace))
            });
        if !known {
            return Err(format!(
                "unknown placeholder {{{{{name}}}}}; expected one of {}, labels.NAME, annotations.NAME",
                FIELDS.join(", ")
            ));
        }
        parts.push(Part::Field(name));
        rest = &after[close + 2..];
    }
    parts.push(Part::Text(rest));
    Ok(parts)
}

/// Checks that every placeholder is known and closed.
pub fn check(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

fn value<'a>(ctx: &'a Context, name: &str) -> &'a str {
    if let Some(k) = name.strip_prefix("labels.") {
        return ctx.labels.get(k).map_or("", String::as_str);
    }
    if let Some(k) = name.strip_prefix("annotations.") {
        return ctx.annotations.get(k).map_or("", String::as_str);
    }
    match name {
        "alert.id" => &ctx.alert_id,
        "alert.summary" => &ctx.summary,
        "alert.severity" => &ctx.severity,
        "alert.source" => &ctx.source,
        "alert.dedup_key" => &ctx.dedup_key,
        "service.id" => &ctx.service_id,
        "service.name" => &ctx.service_name,
        _ => "",
    }
}

fn escape(v: &str, how: Escape) -> String {
    match how {
        Escape::Json => {
            let quoted = serde_json::Value::String(v.to_string()).to_string();
            quoted[1..quoted.len() - 1].to_string()
        }
        Escape::Url => v
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
        Escape::Text => v.replace(['\r', '\n'], " "),
    }
}

/// Fills the placeholders of `template` from `ctx`, escaped as `how` says.
pub fn render(template: &str, ctx: &Context, how: Escape) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    for part in parse(template)? {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Field(name) => out.push_str(&escape(value(ctx, name), how)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            alert_id: "a1".into(),
            summary: "Checkout \"error\" rate\nhigh".into(),
            severity: "critical".into(),
            labels: BTreeMap::from([("pod".into(), "cart-7/x y".into())]),
            service_id: "cart-service".into(),
            ..Context::default()
        }
    }

    #[test]
    fn json_values_stay_inside_their_string() {
        let body = r#"{"text": "{{alert.summary}}", "id": "{{ alert.id }}"}"#;
        let out = render(body, &ctx(), Escape::Json).unwrap();
        assert_eq!(
            out,
            r#"{"text": "Checkout \"error\" rate\nhigh", "id": "a1"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["text"], "Checkout \"error\" rate\nhigh");
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let url = "http://k8s/pods/{{labels.pod}}?svc={{service.id}}&x={{labels.none}}";
        assert_eq!(
            render(url, &ctx(), Escape::Url).unwrap(),
            "http://k8s/pods/cart-7%2Fx%20y?svc=cart-service&x="
        );
    }

    #[test]
    fn header_values_lose_line_breaks() {
        let out = render("{{alert.summary}}", &ctx(), Escape::Text).unwrap();
        assert_eq!(out, "Checkout \"error\" rate high");
    }

    #[test]
    fn unknown_or_unclosed_placeholders_are_refused() {
        assert!(check("{{alert.summary}} {{labels.a}} {{annotations.b}}").is_ok());
        let e = check("x {{alert.sumary}}").unwrap_err();
        assert!(e.starts_with("unknown placeholder {{alert.sumary}}"), "{e}");
        assert!(check("{{labels.}}").is_err());
        assert!(check("{{labels.a b}}").is_err());
        assert!(check("{{alert.id").unwrap_err().contains("never closed"));
        assert!(check("plain } { text").is_ok());
    }
}
