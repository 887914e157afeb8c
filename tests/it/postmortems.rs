//! Postmortems: the pages (in-process, both backends) and a browser run through review.

mod browser;
mod web;
