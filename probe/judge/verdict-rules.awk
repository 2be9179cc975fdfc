# verdict-rules.awk - compile verdict.rules into the C tables of verdict.c.
#
#	awk -f verdict-rules.awk verdict.rules > verdict-rules.h
#
# Reads the rules file (its format is documented at its top and in
# smtprobe(1), VERDICT RULES), checks every line and writes the C
# definitions of rules[] and advice[] that probe/judge/verdict.c includes.
# Any error is reported as "FILE:LINE: message" on standard error, all
# of them, and the exit status is 1 with nothing on standard output.
#
#	awk -v keywords=1 -f verdict-rules.awk
#
# prints the keywords, one a line (the tests check they are documented).
#
# Portable awk only (POSIX; runs with mawk, gawk, the one true awk and
# busybox): no regular expression intervals, no length(array), no
# gensub, no /dev/stderr.

BEGIN {
	# Keep in step with CLASSES in smtprobe(1) and DESIGN.md.
	nclass = split("ip helo sender recipient relay content auth tls " \
	    "rate greylist policy server network protocol accepted", \
	    classlist, " ")
	for (k = 1; k <= nclass; k++)
		isclass[classlist[k]] = 1
	# enum smtp_stage in include/record.h, lower case.
	nst = split("resolve connect banner ehlo starttls auth mail rcpt " \
	    "data eod rset quit", stlist, " ")
	for (k = 1; k <= nst; k++)
		isstage[stlist[k]] = 1
	# The word buffer of words_match() in verdict.c holds 95 bytes
	# and a NUL; verdict.c asserts VERDICT_RULES_LONGEST_WORD fits.
	WORDMAX = 95
	nkw = split("rule class reason stages replies code enhanced words " \
	    "also unless weight firm advice text", kwlist, " ")
	for (k = 1; k <= nkw; k++)
		iskw[kwlist[k]] = 1
	rulekw["class"] = rulekw["reason"] = rulekw["stages"] = 1
	rulekw["replies"] = rulekw["code"] = rulekw["enhanced"] = 1
	rulekw["words"] = rulekw["also"] = rulekw["weight"] = 1
	rulekw["unless"] = rulekw["firm"] = 1
	if (keywords) {
		for (k = 1; k <= nkw; k++)
			print kwlist[k]
		done = 1
		exit 0
	}
	nrule = nadv = 0
	cur = ""		# "rule", "advice" or "" before the first
	errors = done = 0
	longest = 0
}

# err - report one error at line n of the current file
function err(n, msg) {
	printf "%s:%d: %s\n", fname, n, msg | "cat 1>&2"
	errors++
}

# printable - 1 if s is printable ASCII only
function printable(s) {
	return s ~ /^[ -~]*$/
}

# cstr - s as a C string literal (\, " and ? escaped: no trigraphs)
function cstr(s,	out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"" || c == "?")
			out = out "\\"
		out = out c
	}
	return "\"" out "\""
}

# cwords - the words or also lines of rule r as C literals, or NULL
function cwords(r, kw,	out, i, n) {
	n = npiece[r, kw]
	if (n == 0)
		return "NULL"
	out = ""
	for (i = 1; i <= n; i++)
		out = out (i > 1 ? "\n\t\t    " : "") \
		    cstr(piece[r, kw, i] (i < n ? "|" : ""))
	return out
}

# enhpattern - 1 if p is one enhanced code pattern: x.7.1, 5.7.1, x.7.
function enhpattern(p) {
	return p ~ /^[x245]\.[0-9][0-9]?[0-9]?\.([0-9][0-9]?[0-9]?)?$/
}

# wordlist - check a words/also value; 1 if good
function wordlist(n, kw, v,	nw, w, i) {
	if (v ~ /[A-Z]/) {
		err(n, kw " must be lower case: the reply is lower-cased " \
		    "before matching, so \"" v "\" could never match")
		return 0
	}
	nw = split(v, w, "|")
	if (substr(v, 1, 1) == "|" || substr(v, length(v), 1) == "|" || \
	    index(v, "||") > 0) {
		err(n, kw " has an empty alternative (\"|\" at an end, or " \
		    "\"||\"): it would match every reply")
		return 0
	}
	for (i = 1; i <= nw; i++) {
		if (w[i] ~ /^ / || w[i] ~ / $/) {
			err(n, kw " alternative \"" w[i] "\" starts or ends " \
			    "with a blank")
			return 0
		}
		if (length(w[i]) > WORDMAX) {
			err(n, kw " alternative \"" substr(w[i], 1, 20) \
			    "...\" is longer than " WORDMAX " bytes")
			return 0
		}
		if (length(w[i]) > longest)
			longest = length(w[i])
	}
	return 1
}

# endrecord - check the record that is open, if any
function endrecord(	r, e, en, j) {
	if (cur == "rule") {
		r = nrule
		if (!((r, "class") in rseen))
			err(rline[r], "rule " rid[r] " has no class")
		if (!((r, "reason") in rseen))
			err(rline[r], "rule " rid[r] " has no reason")
		if (!((r, "weight") in rseen))
			err(rline[r], "rule " rid[r] " has no weight")
		if (rcode[r] != "" && rreplies[r] != "" && \
		    index(rreplies[r], substr(rcode[r], 1, 1)) == 0)
			err(rline[r], "rule " rid[r] ": code " rcode[r] \
			    " is not among replies " rreplies[r] \
			    ": the rule could never match")
		en = split(renh[r], e, "|")
		for (j = 1; j <= en; j++) {
			if (e[j] ~ /^[245]/ && rreplies[r] != "" && \
			    index(rreplies[r], substr(e[j], 1, 1)) == 0)
				err(rline[r], "rule " rid[r] ": enhanced " \
				    e[j] " is not among replies " rreplies[r] \
				    ": it could never match")
			if (e[j] ~ /^[245]/ && rcode[r] != "" && \
			    substr(e[j], 1, 1) != substr(rcode[r], 1, 1))
				err(rline[r], "rule " rid[r] ": enhanced " \
				    e[j] " and code " rcode[r] " differ in " \
				    "class: it could never match")
		}
		if (npiece[r, "also"] > 0 && npiece[r, "words"] == 0)
			err(rline[r], "rule " rid[r] " has also but no words")
	} else if (cur == "advice") {
		if (atext[nadv] == "")
			err(aline[nadv], "advice " aclass[nadv] \
			    (areason[nadv] != "" ? " " areason[nadv] : "") \
			    " has no text")
	}
	cur = ""
}

{
	fname = FILENAME != "" && FILENAME != "-" ? FILENAME : "(stdin)"
	line = $0
	sub(/\r$/, "", line)
	if (line ~ /^[ \t]*(#|$)/)
		next
	if (line !~ /^[ -~\t]*$/) {
		err(FNR, "only printable ASCII is allowed")
		next
	}
	sub(/^[ \t]+/, "", line)
	sub(/[ \t]+$/, "", line)
	KW = line
	sub(/[ \t].*/, "", KW)
	val = substr(line, length(KW) + 1)
	sub(/^[ \t]+/, "", val)
	if (!(KW in iskw)) {
		err(FNR, "unknown keyword \"" KW "\"")
		next
	}
	if (val == "") {
		err(FNR, KW " needs a value")
		next
	}
	if (KW != "words" && KW != "also" && KW != "unless" && \
	    KW != "text" && \
	    KW != "stages" && KW != "advice" && val ~ /[ \t]/) {
		err(FNR, KW " takes one value, not \"" val "\"")
		next
	}
	if ((KW == "words" || KW == "also" || KW == "unless" || \
	    KW == "text") && \
	    !printable(val)) {
		err(FNR, KW " holds a tab or another control character")
		next
	}

	if (KW == "rule") {
		endrecord()
		if (val !~ /^[a-z0-9][a-z0-9-]*$/) {
			err(FNR, "rule id \"" val "\" is not lower-case " \
			    "letters, digits and \"-\"")
			val = "bad-" FNR
		}
		if (val in ruleat)
			err(FNR, "rule " val " is already defined on line " \
			    ruleat[val])
		else
			ruleat[val] = FNR
		cur = "rule"
		nrule++
		rid[nrule] = val
		rline[nrule] = FNR
		rclass[nrule] = rreason[nrule] = rstages[nrule] = ""
		rreplies[nrule] = rcode[nrule] = renh[nrule] = ""
		rweight[nrule] = ""
		rfirm[nrule] = 0
		npiece[nrule, "words"] = npiece[nrule, "also"] = 0
		npiece[nrule, "unless"] = 0
		next
	}
	if (KW == "advice") {
		endrecord()
		na = split(val, f, /[ \t]+/)
		cur = "advice"
		nadv++
		aline[nadv] = FNR
		aclass[nadv] = f[1]
		areason[nadv] = na > 1 ? f[2] : ""
		atext[nadv] = ""
		if (na > 2)
			err(FNR, "advice takes a class and at most one reason")
		if (!(f[1] in isclass))
			err(FNR, "unknown class \"" f[1] "\"")
		if (na > 1 && f[2] !~ /^[a-z][a-z0-9-]*$/)
			err(FNR, "reason \"" f[2] "\" is not lower-case " \
			    "letters, digits and \"-\"")
		key = aclass[nadv] SUBSEP areason[nadv]
		if (key in advat)
			err(FNR, "advice " val " is already given on line " \
			    advat[key])
		else
			advat[key] = FNR
		next
	}
	if (cur == "") {
		err(FNR, KW " outside a rule or advice")
		next
	}
	if (cur == "advice") {
		if (KW != "text") {
			err(FNR, KW " does not belong in an advice (only text)")
			next
		}
		atext[nadv] = atext[nadv] == "" ? val : atext[nadv] " " val
		next
	}
	if (!(KW in rulekw)) {
		err(FNR, KW " does not belong in a rule")
		next
	}
	R = nrule
	if (KW != "words" && KW != "also" && KW != "unless") {
		if ((R, KW) in rseen) {
			err(FNR, KW " is given twice in rule " rid[R] \
			    " (first on line " rseen[R, KW] ")")
			next
		}
	}
	if (!((R, KW) in rseen))
		rseen[R, KW] = FNR

	if (KW == "class") {
		if (!(val in isclass))
			err(FNR, "unknown class \"" val "\"")
		rclass[R] = val
	} else if (KW == "reason") {
		if (val !~ /^[a-z][a-z0-9-]*$/)
			err(FNR, "reason \"" val "\" is not lower-case " \
			    "letters, digits and \"-\"")
		rreason[R] = val
	} else if (KW == "stages") {
		ns = split(val, ST, /[ \t,]+/)
		expr = ""
		for (I = 1; I <= ns; I++) {
			if (!(ST[I] in isstage)) {
				err(FNR, "unknown stage \"" ST[I] "\"")
				continue
			}
			if ((R, "st", ST[I]) in rseen) {
				err(FNR, "stage " ST[I] " is given twice")
				continue
			}
			rseen[R, "st", ST[I]] = 1
			expr = expr (expr == "" ? "" : " | ") \
			    "ST(" toupper(ST[I]) ")"
		}
		rstages[R] = expr
	} else if (KW == "replies") {
		if (val !~ /^[02-5]+$/)
			err(FNR, "replies is the first digits of basic " \
			    "codes, 2 to 5 (e.g. 45), or 0 for a text " \
			    "without one, not \"" val "\"")
		else
			for (I = 1; I < length(val); I++)
				if (index(substr(val, I + 1), \
				    substr(val, I, 1)) > 0)
					err(FNR, "replies repeats a digit")
		rreplies[R] = val
	} else if (KW == "code") {
		if (val !~ /^[2-5][0-5][0-9]$/)
			err(FNR, "code must be a basic code 200..559, not \"" \
			    val "\"")
		rcode[R] = val
	} else if (KW == "enhanced") {
		ne = split(val, ST, "|")
		if (substr(val, 1, 1) == "|" || substr(val, length(val), 1) == \
		    "|" || index(val, "||") > 0)
			err(FNR, "enhanced has an empty alternative")
		else
			for (I = 1; I <= ne; I++)
				if (!enhpattern(ST[I]))
					err(FNR, "enhanced must look like " \
					    "x.7.1, 5.7.1 or x.7. (prefix), " \
					    "not \"" ST[I] "\"")
		renh[R] = val
	} else if (KW == "words" || KW == "also" || KW == "unless") {
		if (wordlist(FNR, KW, val)) {
			N = ++npiece[R, KW]
			piece[R, KW, N] = val
		}
	} else if (KW == "firm") {
		if (val != "yes")
			err(FNR, "firm takes \"yes\", not \"" val "\"")
		rfirm[R] = 1
	} else if (KW == "weight") {
		if (val !~ /^[0-9][0-9]?[0-9]?$/ || val + 0 < 1 || \
		    val + 0 > 100)
			err(FNR, "weight must be 1..100, not \"" val "\"")
		rweight[R] = val + 0
	}
}

END {
	if (done)
		exit 0
	if (fname == "")
		fname = "(stdin)"
	endrecord()
	if (nrule == 0)
		err(FNR, "no rules")
	# Every rule must find an advice; no advice may be unreachable.
	for (R = 1; R <= nrule; R++) {
		found = 0
		for (a = 1; a <= nadv && !found; a++)
			if (aclass[a] == rclass[R] && (areason[a] == "" || \
			    areason[a] == rreason[R]))
				found = a
		if (!found && (rclass[R] in isclass))
			err(rline[R], "rule " rid[R] ": no advice for " \
			    rclass[R] "/" rreason[R] " (add \"advice " \
			    rclass[R] "\" or \"advice " rclass[R] " " \
			    rreason[R] "\")")
	}
	for (a = 1; a <= nadv; a++) {
		if (areason[a] == "") {
			catchall[aclass[a]] = a
			continue
		}
		if (aclass[a] in catchall)
			err(aline[a], "advice " aclass[a] " " areason[a] \
			    " is never used: \"advice " aclass[a] "\" on " \
			    "line " aline[catchall[aclass[a]]] \
			    " comes first and takes every reason")
	}
	for (I = 1; I <= nclass; I++)
		if (!(classlist[I] in catchall))
			err(FNR, "class " classlist[I] " has no catch-all " \
			    "advice (\"advice " classlist[I] "\")")
	if (errors > 0) {
		close("cat 1>&2")
		exit 1
	}

	print "/*"
	print " * verdict-rules.h - GENERATED by probe/judge/verdict-rules.awk " \
	    "from"
	print " * probe/judge/verdict.rules. DO NOT edit: change the rules " \
	    "file and rebuild."
	print " * Included by probe/judge/verdict.c, which defines struct rule, " \
	    "struct advice,"
	print " * ST() and ANY."
	print " */"
	print ""
	printf "#define VERDICT_RULES_COUNT\t\t%d\n", nrule
	printf "#define VERDICT_RULES_LONGEST_WORD\t%d\n", longest
	print ""
	print "static const struct rule rules[] = {"
	for (R = 1; R <= nrule; R++) {
		printf "\t{\t/* verdict.rules:%d */\n", rline[R]
		printf "\t\t.id = %s,\n", cstr(rid[R])
		printf "\t\t.class = %s,\n", cstr(rclass[R])
		printf "\t\t.reason = %s,\n", cstr(rreason[R])
		printf "\t\t.stages = %s,\n", \
		    (rstages[R] != "" ? rstages[R] : "ANY")
		printf "\t\t.classes = %s,\n", \
		    (rreplies[R] != "" ? cstr(rreplies[R]) : "NULL")
		printf "\t\t.code = %d,\n", rcode[R] + 0
		printf "\t\t.enh = %s,\n", \
		    (renh[R] != "" ? cstr(renh[R]) : "NULL")
		printf "\t\t.words = %s,\n", cwords(R, "words")
		printf "\t\t.also = %s,\n", cwords(R, "also")
		printf "\t\t.unless = %s,\n", cwords(R, "unless")
		printf "\t\t.weight = %d,\n", rweight[R]
		printf "\t\t.firm = %d\n", rfirm[R]
		printf "\t},\n"
	}
	print "};"
	print ""
	print "static const struct advice advice[] = {"
	for (a = 1; a <= nadv; a++) {
		printf "\t{\t/* verdict.rules:%d */\n", aline[a]
		printf "\t\t.class = %s,\n", cstr(aclass[a])
		printf "\t\t.reason = %s,\n", \
		    (areason[a] != "" ? cstr(areason[a]) : "NULL")
		printf "\t\t.advice = %s\n", cstr(atext[a])
		printf "\t},\n"
	}
	print "};"
}
