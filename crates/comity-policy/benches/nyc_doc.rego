# The New York City Department of Correction detainer rules (NYC Admin. Code § 9-131(b)(1))
# in Rego, for measuring regorus side by side with comity. It computes the same fact
# (a violent or serious felony within five years before the instant arrest, the window
# extended by time served, youthful-offender and juvenile adjudications excluded) and gives
# the same outcome per act with the ids of the rules that decided it.
package comity.nyc_doc

import rego.v1

felony_classes := {"A-I-felony", "A-II-felony", "B-felony", "C-felony", "D-felony", "E-felony"}

excluded := {"youthful-offender", "juvenile-delinquent"}

detainer_acts := {"hold", "notify-release"}

counted contains c if {
	some c in input.subject.convictions
	not excluded[object.get(c, "adjudication", "conviction")]
	felony_classes[c.class]
	data.vsc[c.offense]
}

arrest_day := time.parse_ns("2006-01-02", substring(input.custody.arrested_at, 0, 10))

vsc_5y if {
	some c in counted
	served := sum([object.get(k, "incarcerated_days", 0) | some k in counted; k.date >= c.date])
	cutoff := time.add_date(arrest_day, -5, 0, 0 - served)
	judgment := time.parse_ns("2006-01-02", c.date)
	judgment > cutoff
	judgment <= arrest_day
}

doc_detainer if {
	input.to.kind == "corrections"
	input.from.kind == "federal-immigration"
}

default needs_judicial_warrant := false

needs_judicial_warrant if {
	doc_detainer
	input.warrant.kind != "judicial"
}

default needs_vsc_or_tsdb := false

needs_vsc_or_tsdb if {
	doc_detainer
	not vsc_5y
	not input.subject.watchlist_match
}

forbids(act) := ids if {
	detainer_acts[act]
	ids := [id |
		some [id, fires] in [
			["nyc-doc-detainer-needs-judicial-warrant", needs_judicial_warrant],
			["nyc-doc-detainer-needs-vsc-or-tsdb", needs_vsc_or_tsdb],
		]
		fires == true
	]
}

forbids(act) := [] if not detainer_acts[act]

permits(act) := ["nyc-doc-detainer-may-be-honored"] if {
	detainer_acts[act]
	doc_detainer
}

permits(act) := [] if not doc_detainer

permits(act) := [] if not detainer_acts[act]

decide(act) := {"act": act, "outcome": "forbidden", "reasons": f} if {
	f := forbids(act)
	count(f) > 0
}

decide(act) := {"act": act, "outcome": "permitted", "reasons": p} if {
	count(forbids(act)) == 0
	p := permits(act)
	count(p) > 0
}

decide(act) := {"act": act, "outcome": "forbidden", "reasons": ["no-rule-permits"]} if {
	count(forbids(act)) == 0
	count(permits(act)) == 0
}

decision := [decide(act) | some act in input.acts]
