//! `GET /incidents/{id}/document`: the living incident document (`incidents::document`),
//! rendered from the current state on every request, in the viewer's time zone, as safe HTML,
//! with a link to the same document as Markdown (the API's `document.md`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};

use crate::auth::extract::WebUser;
use crate::http::AppState;
use crate::http::web::{Layout, OrPage, PageError};
use crate::incidents::{document, store};

use super::timeline::markdown_html;
use super::{incident_id, viewer};

#[derive(Template, WebTemplate)]
#[template(path = "incidents/document.html")]
pub struct DocumentPage {
    layout: Layout,
    id: i64,
    reference: String,
    tz: String,
    body: String,
}

pub async fn show(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(raw): Path<String>,
) -> Result<DocumentPage, PageError> {
    let id = incident_id(&p, &raw)?;
    let snap = s.catalog().await.or_page(&p, "incidents")?;
    let v = viewer(&s.db, &snap, &p).await.or_page(&p, "incidents")?;
    let full = store::full(&s.db, id).await.or_page(&p, "incidents")?;
    let md = document::markdown(&full, &snap.catalog, &v.tz, s.clock.now_ms());
    Ok(DocumentPage {
        layout: Layout::new(
            &p,
            "incidents",
            format!("{} document", full.incident.reference()),
        ),
        id,
        reference: full.incident.reference(),
        tz: v.tz,
        body: markdown_html(&md),
    })
}
