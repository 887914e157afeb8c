"""Reads an iCalendar file with the `icalendar` package, a parser independent of ours, and
prints what tests/it/calendar/feeds.rs checks as JSON: the calendar's properties and, per
event, its UID, summary, start and end in UTC and whether both were written in UTC."""

import datetime
import json
import sys

from icalendar import Calendar


def utc(value):
    return value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0)


def main(path):
    with open(path, "rb") as f:
        cal = Calendar.from_ical(f.read())
    events = []
    for ev in cal.walk("VEVENT"):
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        events.append({
            "uid": str(ev["UID"]),
            "summary": str(ev["SUMMARY"]),
            "start": start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": end.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "utc": utc(start) and utc(end) and ev["DTSTART"].to_ical().endswith(b"Z"),
            "hours": (end - start).total_seconds() / 3600,
            "dtstamp": ev.decoded("DTSTAMP").strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
    print(json.dumps({
        "version": str(cal.get("VERSION")),
        "prodid": str(cal.get("PRODID")),
        "calscale": str(cal.get("CALSCALE")),
        "method": str(cal.get("METHOD")),
        "name": str(cal.get("X-WR-CALNAME")),
        "events": events,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
