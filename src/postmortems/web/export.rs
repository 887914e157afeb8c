//! The postmortem as a file and on paper: `export.md` is the Markdown document
//! (`render::markdown`) as a download, in the viewer's zone or the one `?tz=` names; `print`
//! is the same document rendered (sanitised) on a page of its own, without navigation or
//! forms, with a print stylesheet. Same access as the page: drafts for responders only.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::extract::{Principal, WebUser};
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{OrPage, PageError};
use crate::incidents::markdown::markdown_html;
use crate::incidents::store as istore;
use crate::incidents::web::viewer;
use crate::postmortems::{render, store};

use super::{ACTIVE, may_read, pm_id};

#[derive(Deserialize, Default)]
pub struct TzQuery {
    tz: Option<String>,
}

/// The document in Markdown, with its reference and time zone.
async fn document(
    s: &AppState,
    p: &Principal,
    raw: &str,
    tz: Option<String>,
) -> Result<(String, String, String), PageError> {
    let id = pm_id(p, raw)?;
    let pm = store::full(&s.db, id).await.or_page(p, ACTIVE)?;
    may_read(p, pm.postmortem.status)?;
    let snap = s.catalog().await.or_page(p, ACTIVE)?;
    let tz = match tz.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        Some(t) if jiff::tz::TimeZone::get(&t).is_err() => {
            return Err(PageError::new(
                p,
                ACTIVE,
                AppError::BadRequest(format!("unknown time zone {t:?}")),
            ));
        }
        Some(t) => t,
        None => viewer(&s.db, &snap, p).await.or_page(p, ACTIVE)?.tz,
    };
    let f = istore::full(&s.db, id).await.or_page(p, ACTIVE)?;
    let md = render::markdown(&pm, &f, &snap.catalog, &tz, s.clock.now_ms());
    Ok((f.incident.reference(), tz, md))
}

/// `GET /postmortems/{id}/export.md[?tz=Europe/London]`.
pub async fn markdown(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Query(q): Query<TzQuery>,
) -> Result<Response, PageError> {
    let (reference, _, md) = document(&s, &p, &raw, q.tz).await?;
    let disposition = format!("attachment; filename=\"{reference}-postmortem.md\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        md,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "postmortems/print.html")]
pub struct PrintPage {
    title: String,
    tz: String,
    body: String,
}

/// `GET /postmortems/{id}/print[?tz=…]`.
pub async fn print(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
    Query(q): Query<TzQuery>,
) -> Result<PrintPage, PageError> {
    let (reference, tz, md) = document(&s, &p, &raw, q.tz).await?;
    Ok(PrintPage {
        title: format!("{reference} postmortem"),
        tz,
        body: markdown_html(&md),
    })
}
