//! Who may run `/incident`: Slack's signed requests and Mattermost's command token. Pure,
//! with `now` passed in, so the replay window is tested on a fixed clock.
//!
//! Slack (reference §6.3): `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret,
//! "v0:{X-Slack-Request-Timestamp}:{raw body}")>`, refused when the timestamp is more than
//! five minutes from `now` either way (a captured request cannot be replayed later).
//! Mattermost (§6.4) sends no signature, only its per-command token in the `token` field and
//! `Authorization: Token …`. Every comparison is constant-time. An empty secret or token means
//! the platform is not configured, and its requests are refused rather than trusted.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// The replay window: Slack's SDKs use five minutes.
pub const WINDOW_SECS: u64 = 300;

/// Why a chat request was refused (answered 401, with this as the error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("Slack commands are not enabled: set slack_signing_secret")]
    SlackNotConfigured,
    #[error("Mattermost commands are not enabled: set mattermost_token")]
    MattermostNotConfigured,
    #[error("missing X-Slack-Signature or X-Slack-Request-Timestamp")]
    MissingSignature,
    #[error("X-Slack-Signature does not match the request")]
    BadSignature,
    #[error("X-Slack-Request-Timestamp is more than 5 minutes from now (a replay?)")]
    Stale,
    #[error("the Mattermost token is missing or wrong")]
    BadToken,
}

/// Checks a Slack request: `timestamp` and `signature` are the two headers as sent, `body` the
/// raw bytes as received (never re-encoded), `now` in milliseconds.
pub fn slack(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Refused> {
    if secret.is_empty() {
        return Err(Refused::SlackNotConfigured);
    }
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(Refused::MissingSignature);
    };
    let tag = sig
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refused::BadSignature)?;
    let ts = ts.trim();
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(b"v0:");
    mac.update(ts.as_bytes());
    mac.update(b":");
    mac.update(body);
    // The MAC first, then the time: a forger learns nothing about our clock.
    mac.verify_slice(&tag).map_err(|_| Refused::BadSignature)?;
    let t: i64 = ts.parse().map_err(|_| Refused::BadSignature)?;
    if now.div_euclid(1000).abs_diff(t) > WINDOW_SECS {
        return Err(Refused::Stale);
    }
    Ok(())
}

/// Checks a Mattermost request's token (the form field, else `Authorization: Token …`).
pub fn mattermost(
    configured: &str,
    field: Option<&str>,
    authorization: Option<&str>,
) -> Result<(), Refused> {
    if configured.is_empty() {
        return Err(Refused::MattermostNotConfigured);
    }
    let header = authorization.and_then(|h| h.trim().strip_prefix("Token ").map(str::trim));
    let presented = field.filter(|f| !f.is_empty()).or(header);
    match presented {
        Some(p) if bool::from(p.as_bytes().ct_eq(configured.as_bytes())) => Ok(()),
        _ => Err(Refused::BadToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's published example (reference §6.3), recomputed there with Python's hmac.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const AT: i64 = 1_531_420_618_000;

    #[test]
    fn slacks_test_vector_verifies_on_a_fixed_clock() {
        assert_eq!(
            slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT),
            Ok(())
        );
        // Anywhere inside the window, either side.
        assert_eq!(
            slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT + 300_000),
            Ok(())
        );
        assert_eq!(
            slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT - 300_000),
            Ok(())
        );
    }

    #[test]
    fn old_or_future_timestamps_are_refused() {
        for now in [AT + 301_000, AT - 301_000, 0] {
            assert_eq!(
                slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), now),
                Err(Refused::Stale),
                "{now}"
            );
        }
    }

    #[test]
    fn bad_signatures_are_refused() {
        let tampered = BODY.replace("text=", "text=declare");
        assert_eq!(
            slack(SECRET, Some(TS), Some(SIG), tampered.as_bytes(), AT),
            Err(Refused::BadSignature)
        );
        // The timestamp is inside the MAC: moving it breaks the signature.
        assert_eq!(
            slack(SECRET, Some("1531420619"), Some(SIG), BODY.as_bytes(), AT),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            slack("another-secret", Some(TS), Some(SIG), BODY.as_bytes(), AT),
            Err(Refused::BadSignature)
        );
        let upper = SIG.replace("v0=", "v1=");
        for sig in [upper.as_str(), "v0=zz", "", "v0="] {
            assert_eq!(
                slack(SECRET, Some(TS), Some(sig), BODY.as_bytes(), AT),
                Err(Refused::BadSignature),
                "{sig:?}"
            );
        }
        assert_eq!(
            slack(SECRET, None, Some(SIG), BODY.as_bytes(), AT),
            Err(Refused::MissingSignature)
        );
        assert_eq!(
            slack("", Some(TS), Some(SIG), BODY.as_bytes(), AT),
            Err(Refused::SlackNotConfigured)
        );
    }

    #[test]
    fn mattermost_tokens() {
        assert_eq!(mattermost("tok", Some("tok"), None), Ok(()));
        assert_eq!(mattermost("tok", None, Some("Token tok")), Ok(()));
        assert_eq!(mattermost("tok", Some(""), Some("Token tok")), Ok(()));
        assert_eq!(
            mattermost("tok", Some("tok2"), None),
            Err(Refused::BadToken)
        );
        assert_eq!(mattermost("tok", Some("to"), None), Err(Refused::BadToken));
        assert_eq!(
            mattermost("tok", None, Some("Bearer tok")),
            Err(Refused::BadToken)
        );
        assert_eq!(mattermost("tok", None, None), Err(Refused::BadToken));
        assert_eq!(
            mattermost("", Some(""), None),
            Err(Refused::MattermostNotConfigured)
        );
    }
}
