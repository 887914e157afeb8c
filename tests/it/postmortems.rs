//! Postmortems: the backlog export of action items and the action-items page.

mod actions_page;
mod backlog;
