// Read an .ics file from stdin with ical.js (the parser inside Thunderbird, Nextcloud and
// FullCalendar) the way those calendar apps do, and print its events as JSON on stdout.
//
//   node tests/events/icaljs_read.mjs < event.ics
//
// Each VTIMEZONE is registered with ICAL.TimezoneService, so times with a TZID resolve to that
// zone's rules; each VEVENT is read through ICAL.Event. Printed per event:
//   uid, summary, status, sequence, location,
//   tzid  - the TZID parameter of DTSTART as written in the file (null if none),
//   zone  - the zone ical.js resolved DTSTART to ("floating" means it did NOT resolve and the
//           time was read in the computer's own zone, as an app would do),
//   start, end - the instants in UTC, ISO 8601 (e.g. "2027-04-19T17:30:00.000Z").
// A file ical.js cannot parse exits with status 1 and the error on stderr.

import ICAL from "ical.js";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function utcISO(time) {
  if (!time) {
    return null;
  }
  return time.convertToZone(ICAL.Timezone.utcTimezone).toJSDate().toISOString();
}

function readEvents(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  return calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const dtstart = vevent.getFirstProperty("dtstart");
    const status = vevent.getFirstPropertyValue("status");
    return {
      uid: event.uid,
      summary: event.summary,
      status: status === null ? null : String(status),
      sequence: event.sequence,
      tzid: dtstart ? dtstart.getParameter("tzid") ?? null : null,
      zone: event.startDate ? event.startDate.zone.tzid : null,
      start: utcISO(event.startDate),
      end: utcISO(event.endDate),
      location: event.location,
    };
  });
}

try {
  const events = readEvents(await readStdin());
  process.stdout.write(JSON.stringify(events, null, 2) + "\n");
} catch (error) {
  process.stderr.write(`ical.js could not read the calendar: ${error?.stack ?? error}\n`);
  process.exit(1);
}
