//! The "Notifications" section of a person's page: how a page reaches them, in plain language
//! ("Slack at once, email after 2 minutes") for everyone, and their contact methods and rules
//! with add/remove forms for themselves and admins (the same checks as the API, `api.rs`).
//! Every form carries the session's CSRF token; a webhook's signing secret is shown once, on
//! the page that answers its creation. Each method has a "Send test" button (the API's rules
//! and throttle, `test_message`) and shows how its last test went.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::auth::Role;
use crate::auth::extract::{Principal, WebUser, encode};
use crate::db::StoreError;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::api::{may_manage, may_remove_method, may_remove_rule, own_person};
use super::contact::{self, ContactKind, ContactMethod, NotificationRule};
use super::store;
use super::test_message;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/contact-methods", post(add_method))
        .route("/contact-methods/{id}/remove", post(remove_method))
        .route("/contact-methods/{id}/test", post(test_method))
        .route("/people/{id}/notification-rules", post(add_rule))
        .route("/notification-rules/{id}/remove", post(remove_rule))
}

/// A kind as people read it in a sentence.
pub fn kind_label(k: ContactKind) -> &'static str {
    k.label()
}

fn delay_phrase(minutes: u32) -> String {
    match minutes {
        0 => "at once".into(),
        1 => "after 1 minute".into(),
        60 => "after 1 hour".into(),
        m if m.is_multiple_of(60) => format!("after {} hours", m / 60),
        m => format!("after {m} minutes"),
    }
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "Slack at once, email after 2 minutes": each rule's method by kind, grouped by delay,
/// earliest first. Empty when there are no rules (the caller explains the default).
pub fn summary(methods: &[ContactMethod], rules: &[NotificationRule]) -> String {
    let mut delays: Vec<u32> = rules.iter().map(|r| r.delay_minutes).collect();
    delays.sort_unstable();
    delays.dedup();
    let parts: Vec<String> = delays
        .into_iter()
        .map(|d| {
            let mut kinds: Vec<&str> = Vec::new();
            for r in rules.iter().filter(|r| r.delay_minutes == d) {
                let label = methods
                    .iter()
                    .find(|m| m.id == r.contact_method)
                    .map_or("an unknown method", |m| kind_label(m.kind));
                if !kinds.contains(&label) {
                    kinds.push(label);
                }
            }
            format!("{} {}", and_list(&kinds), delay_phrase(d))
        })
        .collect();
    let text = parts.join(", ");
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// A contact method as the page lists it.
pub struct MethodView {
    pub id: String,
    pub kind: &'static str,
    pub target: String,
    pub verified: bool,
    /// How its last test went, if it had one.
    pub last_test: Option<TestView>,
}

/// A method's last test on the page.
pub struct TestView {
    /// queued, retrying, sent, failed or cancelled (also its CSS class).
    pub status: String,
    /// "failed after 1 attempt: HTTP 404: no_service".
    pub said: String,
}

pub struct RuleView {
    pub id: String,
    pub method: String,
    pub when: String,
}

/// What the person page's "Notifications" section shows.
pub struct Notifications {
    pub summary: String,
    /// What happens without rules, when there are none.
    pub default_note: String,
    /// Methods and rules with their targets: the person themselves and admins only.
    pub visible: bool,
    /// The add/remove forms: admins, and the person themselves as a responder.
    pub editable: bool,
    pub methods: Vec<MethodView>,
    pub rules: Vec<RuleView>,
    pub kinds: Vec<&'static str>,
}

/// The section for `person` (with catalog `email`) as `p` may see it.
pub async fn for_person(
    s: &AppState,
    p: &Principal,
    person: &str,
    email: &str,
) -> Result<Notifications, StoreError> {
    let methods = store::list_methods(&s.db, person).await?;
    let rules = store::list_rules(&s.db, person).await?;
    let own = own_person(&s.db, p).await?.is_some_and(|id| id == person);
    let visible = own || p.is_admin();
    let tests = if visible {
        test_message::last_of_person(&s.db, person).await?
    } else {
        Vec::new()
    };
    let default_note = match (rules.is_empty(), methods.is_empty()) {
        (false, _) => String::new(),
        (true, false) => {
            "No notification rules, so a page goes to every contact method at once.".into()
        }
        (true, true) => format!(
            "No contact methods or rules, so a page goes by email to their catalog address, {email}."
        ),
    };
    let method_label = |id: &str| {
        methods.iter().find(|m| m.id == id).map_or_else(
            || id.to_string(),
            |m| format!("{} ({})", kind_label(m.kind), m.id),
        )
    };
    Ok(Notifications {
        summary: summary(&methods, &rules),
        default_note,
        visible,
        editable: p.is_admin() || (own && p.is_responder()),
        rules: rules
            .iter()
            .map(|r| RuleView {
                id: r.id.clone(),
                method: method_label(&r.contact_method),
                when: delay_phrase(r.delay_minutes),
            })
            .collect(),
        methods: methods
            .into_iter()
            .map(|m| MethodView {
                last_test: tests
                    .iter()
                    .find(|t| t.contact_method == m.id)
                    .map(|t| TestView {
                        status: t.status.clone(),
                        said: t.describe(),
                    }),
                id: m.id,
                kind: kind_label(m.kind),
                target: m.target,
                verified: m.verified_at.is_some(),
            })
            .collect(),
        kinds: ContactKind::ALL.iter().map(|k| k.as_str()).collect(),
    })
}

fn back(person: &str) -> Response {
    Redirect::to(&format!("/people/{}#notifications", encode(person))).into_response()
}

#[derive(Deserialize)]
struct MethodForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notify/method_created.html")]
struct MethodCreated {
    layout: Layout,
    person: String,
    target: String,
    secret: String,
}

/// CSRF first (a forged form learns nothing), then who may.
async fn allowed(s: &AppState, p: &Principal, csrf: &str, person: &str) -> Result<(), PageError> {
    p.check_csrf(csrf).or_page(p, "people")?;
    may_manage(&s.db, p, person, Role::Responder)
        .await
        .or_page(p, "people")
}

async fn add_method(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(person): Path<String>,
    Form(f): Form<MethodForm>,
) -> Result<Response, PageError> {
    allowed(&s, &p, &f.csrf, &person).await?;
    let c = s.catalog().await.or_page(&p, "people")?;
    c.person(&person)
        .ok_or(AppError::NotFound)
        .or_page(&p, "people")?;
    let kind = ContactKind::parse(f.kind.trim())
        .ok_or_else(|| AppError::invalid("kind must be webhook, slack, mattermost or email"))
        .or_page(&p, "people")?;
    let m = contact::add_method(&s.db, s.clock.now_ms(), &p.name, &person, kind, &f.target)
        .await
        .map_err(AppError::from)
        .or_page(&p, "people")?;
    match m.secret {
        Some(secret) => Ok(MethodCreated {
            layout: Layout::new(&p, "people", "Webhook added"),
            person,
            target: m.target,
            secret,
        }
        .into_response()),
        None => Ok(back(&person)),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The contact method `id`, once the form's CSRF token and the signed-in account's right to
/// change that person's methods (removing one, or sending it a test) are checked.
async fn method_to_change(
    s: &AppState,
    p: &Principal,
    id: &str,
    csrf: &str,
) -> Result<ContactMethod, PageError> {
    p.check_csrf(csrf).or_page(p, "people")?;
    may_remove_method(&s.db, p, id).await.or_page(p, "people")?;
    store::get_method(&s.db, id).await.or_page(p, "people")
}

async fn remove_method(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let m = method_to_change(&s, &p, &id, &f.csrf).await?;
    contact::remove_method(&s.db, s.clock.now_ms(), &p.name, &id)
        .await
        .or_page(&p, "people")?;
    Ok(back(&m.person))
}

async fn test_method(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let m = method_to_change(&s, &p, &id, &f.csrf).await?;
    test_message::queue(&s.db, s.clock.now_ms(), &p.name, &id)
        .await
        .map_err(AppError::from)
        .or_page(&p, "people")?;
    s.wake.notify_one();
    Ok(back(&m.person))
}

#[derive(Deserialize)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contact_method: String,
    /// Minutes, as typed.
    #[serde(default)]
    delay_minutes: String,
}

async fn add_rule(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(person): Path<String>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    allowed(&s, &p, &f.csrf, &person).await?;
    let delay = f
        .delay_minutes
        .trim()
        .parse::<u32>()
        .map_err(|_| {
            AppError::invalid(format!(
                "the delay must be a whole number of minutes, not {:?}",
                f.delay_minutes
            ))
        })
        .or_page(&p, "people")?;
    let method = f.contact_method.trim();
    match contact::add_rule(&s.db, s.clock.now_ms(), &p.name, &person, method, delay).await {
        Ok(_) => Ok(back(&person)),
        Err(contact::ContactError::Store(StoreError::NotFound)) => Err(PageError::new(
            &p,
            "people",
            AppError::invalid(format!("{person} has no contact method {method:?}")),
        )),
        Err(contact::ContactError::Store(StoreError::Conflict(_))) => Err(PageError::new(
            &p,
            "people",
            AppError::Conflict(format!(
                "There is already a rule for that method {}.",
                delay_phrase(delay)
            )),
        )),
        Err(e) => Err(PageError::new(&p, "people", AppError::from(e))),
    }
}

/// The remove-rule form; `person` only says which page to return to (authorisation looks the
/// rule up itself).
#[derive(Deserialize)]
struct RemoveRuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
}

async fn remove_rule(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Form(f): Form<RemoveRuleForm>,
) -> Result<Response, PageError> {
    p.check_csrf(&f.csrf).or_page(&p, "people")?;
    may_remove_rule(&s.db, &p, &id)
        .await
        .or_page(&p, "people")?;
    contact::remove_rule(&s.db, s.clock.now_ms(), &p.name, &id)
        .await
        .or_page(&p, "people")?;
    let person = f.person.trim();
    if person.is_empty() {
        return Ok(Redirect::to("/people").into_response());
    }
    Ok(back(person))
}
