#!/usr/bin/env python3
"""model.py - train the verdict's learned evidence from train.tsv only.

The model is a multinomial logistic regression over binary features of
a reply (see feats(): lower-cased ASCII words, word bigrams, the first
STEM letters of longer words, the object a word names, the stage, the
basic code and the enhanced codes) for the class, and one logistic
regression per class over its reasons (REASON_LR; or a naive Bayes over
the class/reason pairs). The settings below were chosen by 5-fold
cross-validation on train (--cv, --set NAME=VALUE to try another).
Only features seen in at least MIN_DF train lines are kept; a feature
is stored as the 32-bit FNV-1a hash of its name, with the log-weight it
adds to each label it was seen with (fixed point, 1/1000) and, per
label, the log-weight of a kept feature never seen with it (0 for the
regressions).

    python3 tests/verdict/model.py [--cv | --cv-only] [--oof FILE]
        [--set NAME=VALUE] [--out DIR]

writes DIR/probe/judge/verdict_model.c (the tables, "do not edit") and
DIR/tests/verdict/model-fixture.tsv (lines with the top class and its
score, which tests/unit/t_verdict.c checks the C side against), DIR
defaulting to the source tree. --cv prints the k-fold cross-validation
accuracy on train (--cv-only: and writes nothing; --set GROUP=1 holds
out whole sources, the yardstick for wording from new sources); --oof FILE writes
each train line's out-of-fold class and reason scores (what the
combination with the rules is chosen from: tests/verdict/cv.sh runs
both steps, about 1.5 minutes).
Python 3 standard library only; the output depends on train.tsv alone.
The test split (test.tsv) is never read here.
"""
import math
import os
import random
import sys

ALPHA = 0.3		# additive smoothing
MIN_DF = 1		# a feature must be seen in this many train lines
SCALE = 1000		# fixed point of the stored log-weights
L2 = 0.0001		# logistic regression: L2 penalty
EPOCHS = 15		# passes over train
RATE = 0.1		# AdaGrad step
PRUNE = 80		# a smaller weight (1/1000) is left out
FOLDS = 5
SEED = 15
WORD_MAX = 24		# a longer word is cut to this many letters
FEAT_WORDS = 200	# words of a reply that count
FEAT_ENH = 8		# enhanced codes of a reply that count
FIXTURE_EVERY = 25	# one train line in this many goes to the fixture
STEM = 5		# also each word's first STEM letters ("p:block"), 0 none
OBJ = 1			# also the objects the words name ("o:ip"), 0 none
REASON_LR = 1		# reasons: 1 LR per class, 0 naive Bayes over pairs
GROUP = 0		# --cv folds: 0 by line, 1 by source (a source's
			# lines all held out together: wording from new sources)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def fnv1a(s):
    """32-bit FNV-1a of the bytes of s (latin-1)."""
    h = 2166136261
    for c in s.encode('latin-1'):
        h ^= c
        h = (h * 16777619) & 0xffffffff
    return h


def isdig(c):
    return '0' <= c <= '9'


def islet(c):
    return 'a' <= c <= 'z'


def isword(c):
    return islet(c) or isdig(c) or c == '_'


def digits(t, i):
    """end of the run of digits starting at t[i]"""
    while i < len(t) and isdig(t[i]):
        i += 1
    return i


def enhanced_codes(t):
    """every "C.S.D" of the text (C 2, 4 or 5, S and D 1..3 digits) not
    inside a longer word, in order; the same scan as verdict_feat.c"""
    out = []
    i = 0
    n = len(t)
    while i < n and len(out) < FEAT_ENH:
        c = t[i]
        if c in '245' and (i == 0 or not isword(t[i - 1])) and \
                i + 1 < n and t[i + 1] == '.':
            a = i + 2
            b = digits(t, a)
            if 1 <= b - a <= 3 and b < n and t[b] == '.':
                d = digits(t, b + 1)
                if 1 <= d - b - 1 <= 3 and (d == n or not isword(t[d])):
                    out.append((c, t[a:b], t[b + 1:d]))
                    i = d
                    continue
        i += 1
    return out


def basic_code(t):
    """the basic code the text starts with (after blanks), or None"""
    i = 0
    while i < len(t) and t[i] in ' \t':
        i += 1
    if i + 3 <= len(t) and t[i] in '2345' and isdig(t[i + 1]) and \
            isdig(t[i + 2]) and (i + 3 == len(t) or not isdig(t[i + 3])):
        return t[i:i + 3]
    return None


def words(t):
    """the runs of ASCII letters of the lower-cased text, cut to
    WORD_MAX"""
    out = []
    i = 0
    n = len(t)
    while i < n and len(out) < FEAT_WORDS:
        if islet(t[i]):
            j = i
            while j < n and islet(t[j]):
                j += 1
            out.append(t[i:min(j, i + WORD_MAX)])
            i = j
        else:
            i += 1
    return out


def lower(text):
    return ''.join(chr(ord(c) + 32) if 'A' <= c <= 'Z' else c
                   for c in text)


def feats(stage, text):
    """the feature names of a reply, in order, duplicates kept;
    verdict_feat.c makes the same list"""
    t = lower(text)
    fs = ['s:' + stage]
    c = basic_code(t)
    if c is not None:
        fs += ['c:' + c, 'c:' + c[0] + 'xx']
    for (k, s, d) in enhanced_codes(t):
        fs += ['e:%s.%s.%s' % (k, s, d), 'e:x.%s.%s' % (s, d), 'e:x.' + s]
    w = words(t)
    fs += w
    fs += [a + '_' + b for a, b in zip(w, w[1:])]
    if STEM:
        fs += ['p:' + x[:STEM] for x in w if len(x) > STEM]
    if OBJ:
        fs += ['o:' + OBJECTS[x] for x in w if x in OBJECTS]
    return fs


# the object a word names (what a refusal is about), pooled so that a
# synonym seen once counts with the others
OBJECTS = {}
for _o, _ws in (
        ('ip', 'client ip ips host hosts hostname rdns ptr reverse dynamic '
         'residential dialup connection connections network'),
        ('helo', 'helo ehlo'),
        ('sender', 'sender senders from envelope originator'),
        ('recipient', 'recipient recipients rcpt user users mailbox '
         'mailboxes account accounts addressee'),
        ('content', 'message messages content body url urls uri link links '
         'attachment attachments spam virus'),
        ('rate', 'rate limit limits many quota volume frequency exceeded '
         'throttled throttling'),
        ('tls', 'tls starttls ssl encryption encrypted certificate'),
        ('auth', 'auth authentication authenticated authenticate login '
         'password credentials'),
        ('relay', 'relay relaying relayed'),
        ('list', 'listed blacklisted blocklisted blacklist blocklist '
         'dnsbl rbl spamhaus')):
    for _w in _ws.split():
        OBJECTS[_w] = _o


def load(path):
    out = []
    with open(path, encoding='latin-1') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            x = line.rstrip('\r\n').split('\t')
            out.append((x[0], x[1], x[2], x[3],
                        x[4] if len(x) > 4 else ''))
    return out


class NB:
    """multinomial naive Bayes over sets of feature hashes"""

    def __init__(self, rows, labels, alpha=ALPHA, min_df=MIN_DF):
        df = {}
        for fs in rows:
            for h in fs:
                df[h] = df.get(h, 0) + 1
        self.vocab = {h for h, n in df.items() if n >= min_df}
        self.labels = sorted(set(labels))
        cnt = {y: {} for y in self.labels}
        ny = {y: 0 for y in self.labels}
        tot = {y: 0 for y in self.labels}
        for fs, y in zip(rows, labels):
            ny[y] += 1
            for h in fs:
                if h in self.vocab:
                    cnt[y][h] = cnt[y].get(h, 0) + 1
                    tot[y] += 1
        v = len(self.vocab)
        n = len(rows)
        self.prior = {}
        self.dflt = {}
        self.w = {}		# hash -> {label: delta over dflt}
        for y in self.labels:
            self.prior[y] = q(math.log(ny[y] / n))
            den = tot[y] + alpha * v
            self.dflt[y] = q(math.log(alpha / den))
            for h, k in cnt[y].items():
                self.w.setdefault(h, {})[y] = \
                    q(math.log((k + alpha) / den)) - self.dflt[y]

    def scores(self, fs):
        known = [h for h in fs if h in self.w]
        s = {}
        for y in self.labels:
            s[y] = self.prior[y] + len(known) * self.dflt[y]
        for h in known:
            for y, d in self.w[h].items():
                s[y] += d
        return s


class LR:
    """multinomial logistic regression (softmax, L2, AdaGrad, a fixed
    order of examples) over sets of feature hashes; the same interface
    as NB: prior (the bias), dflt (0) and w (hash -> {label: weight})"""

    def __init__(self, rows, labels, l2=None, epochs=None, rate=None,
                 min_df=None):
        l2 = L2 if l2 is None else l2
        epochs = EPOCHS if epochs is None else epochs
        rate = RATE if rate is None else rate
        min_df = MIN_DF if min_df is None else min_df
        df = {}
        for fs in rows:
            for h in fs:
                df[h] = df.get(h, 0) + 1
        vocab = {h for h, n in df.items() if n >= min_df}
        self.labels = sorted(set(labels))
        nl = len(self.labels)
        li = {y: j for j, y in enumerate(self.labels)}
        rows = [[h for h in fs if h in vocab] for fs in rows]
        w = {h: [0.0] * nl for h in vocab}
        g2 = {h: [0.01] * nl for h in vocab}
        b = [0.0] * nl
        rng = range(nl)
        order = list(range(len(rows)))
        rnd = random.Random(SEED)
        exp = math.exp
        sqrt = math.sqrt
        for _ in range(epochs):
            rnd.shuffle(order)
            for i in order:
                s = b[:]
                for h in rows[i]:
                    wh = w[h]
                    s = [a + c for a, c in zip(s, wh)]
                m = max(s)
                e = [exp(v - m) for v in s]
                z = sum(e)
                g = [v / z for v in e]
                g[li[labels[i]]] -= 1.0
                b = [a - rate * 0.1 * c for a, c in zip(b, g)]
                for h in rows[i]:
                    wh = w[h]
                    gh = g2[h]
                    for j in rng:
                        d = g[j] + l2 * wh[j]
                        gh[j] += d * d
                        wh[j] -= rate * d / sqrt(gh[j])
        self.prior = {y: q(b[j]) for j, y in enumerate(self.labels)}
        self.dflt = {y: 0 for y in self.labels}
        self.w = {}
        for h, wh in w.items():
            d = {y: q(wh[j]) for j, y in enumerate(self.labels)
                 if abs(q(wh[j])) >= PRUNE}
            if d:
                self.w[h] = d

    scores = NB.scores


class ReasonLR:
    """the reasons of each class: one logistic regression per class over
    the lines of that class (labels "class/reason"), so that a pair's
    score is comparable with the other reasons of its class only"""

    def __init__(self, rows, labels):
        self.labels = sorted(set(labels))
        self.prior = {}
        self.dflt = {y: 0 for y in self.labels}
        self.w = {}
        for c in sorted({y.split('/')[0] for y in labels}):
            sub = [(fs, y) for fs, y in zip(rows, labels)
                   if y.split('/')[0] == c]
            ys = sorted({y for _, y in sub})
            if len(ys) == 1:
                self.prior[ys[0]] = 0
                continue
            m = LR([fs for fs, _ in sub], [y for _, y in sub])
            for y in ys:
                self.prior[y] = m.prior[y]
            for h, d in m.w.items():
                self.w.setdefault(h, {}).update(d)

    scores = NB.scores


def reason_model(rows, labels):
    return ReasonLR(rows, labels) if REASON_LR else NB(rows, labels)


def q(x):
    """fixed point, rounded half away from zero, as the C tables hold"""
    return int(math.floor(x * SCALE + 0.5)) if x >= 0 else \
        -int(math.floor(-x * SCALE + 0.5))


def hashes(stage, text):
    """the distinct feature hashes of a reply, first occurrence order"""
    seen = []
    got = set()
    for f in feats(stage, text):
        h = fnv1a(f)
        if h not in got:
            got.add(h)
            seen.append(h)
    return seen


def posterior(s):
    m = max(s.values())
    z = sum(math.exp((v - m) / SCALE) for v in s.values())
    return {y: math.exp((v - m) / SCALE) / z for y, v in s.items()}


def top(s):
    """the best label; on a tie the first in sorted order"""
    return min(s, key=lambda y: (-s[y], y))


def reason_of(rm, fs, cls):
    s = rm.scores(fs)
    return top({y: v for y, v in s.items() if y.split('/')[0] == cls})


def folds(data):
    """the held-out parts: lines at random, or whole sources (GROUP)"""
    n = len(data)
    if GROUP:
        part = [[] for _ in range(FOLDS)]
        for i, d in enumerate(data):
            part[fnv1a(d[4] + str(SEED)) % FOLDS].append(i)
        return part
    idx = list(range(n))
    random.Random(SEED).shuffle(idx)
    return [idx[i::FOLDS] for i in range(FOLDS)]


def cv(data, rows, oof=None):
    ok = okr = 0
    post = [None] * len(data)
    rsc = [None] * len(data)
    for part in folds(data):
        held = set(part)
        tr = [i for i in range(len(data)) if i not in held]
        cm = LR([rows[i] for i in tr], [data[i][1] for i in tr])
        rm = reason_model([rows[i] for i in tr],
                          [data[i][1] + '/' + data[i][2] for i in tr])
        for i in part:
            s = cm.scores(rows[i])
            c = top(s)
            post[i] = posterior(s)
            rsc[i] = rm.scores(rows[i])
            if c == data[i][1]:
                ok += 1
                if reason_of(rm, rows[i], c).split('/')[1] == data[i][2]:
                    okr += 1
    n = len(data)
    print('cv %d-fold%s: class %.1f%% (%d/%d), reason %.1f%% (%d/%d)' %
          (FOLDS, ' by source' if GROUP else '', 100.0 * ok / n, ok, n,
           100.0 * okr / n, okr, n))
    if oof is not None:
        with open(oof, 'w') as f:
            for d, p, r in zip(data, post, rsc):
                f.write('%s\t%s\t%s\t%s\n' % (d[1], d[2], ' '.join(
                    '%s=%.6f' % (y, p[y]) for y in sorted(p)), ' '.join(
                    '%s=%d' % (y, r[y]) for y in sorted(r))))


def c_str(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def emit(cm, rm, n, out):
    labels = cm.labels + rm.labels
    hs = sorted(set(cm.w) | set(rm.w))
    nent = 0
    lines = []
    A = lines.append
    A('/*')
    A(' * verdict_model.c - GENERATED by tests/verdict/model.py from')
    A(' * tests/verdict/train.tsv (%d lines); do not edit: run' % n)
    A(' * "python3 tests/verdict/model.py" and commit the result.')
    A(' *')
    A(' * Classes: logistic regression (L2 %g, %d passes, step %g,'
      % (L2, EPOCHS, RATE))
    A(' * weights under %d/%d left out); reasons: %s.'
      % (PRUNE, SCALE, 'a logistic regression per class' if REASON_LR
         else 'naive Bayes over class/reason pairs (smoothing %.2f)'
         % ALPHA))
    A(' * Features seen in at least %d train lines, stored as their'
      % MIN_DF)
    A(' * FNV-1a hash; weights in 1/%d.' % SCALE)
    A(' */')
    A('#include "config.h"')
    A('')
    A('#include <stddef.h>')
    A('#include <stdint.h>')
    A('')
    A('#include "verdict_model.h"')
    A('')
    A('const char *const vm_labels[] = {')
    for y in labels:
        A('\t%s,' % c_str(y))
    A('};')
    A('const size_t vm_nclass = %d;' % len(cm.labels))
    A('')
    A('/* the features beside words and pairs: stems, objects */')
    A('const size_t vm_stem = %d;' % STEM)
    A('const struct vm_object vm_object[] = {')
    for x in sorted(OBJECTS) if OBJ else []:
        A('\t{ %s, %s },' % (c_str(x), c_str(OBJECTS[x])))
    A('\t{ NULL, NULL }')
    A('};')
    A('const size_t vm_nobject = %d;' % (len(OBJECTS) if OBJ else 0))
    A('const size_t vm_nlabel = %d;' % len(labels))
    A('')
    A('/* per label: log prior, log-weight of a kept feature unseen */')
    A('const int32_t vm_prior[] = {')
    for m in (cm, rm):
        for y in m.labels:
            A('\t%d,' % m.prior[y])
    A('};')
    A('const int32_t vm_dflt[] = {')
    for m in (cm, rm):
        for y in m.labels:
            A('\t%d,' % m.dflt[y])
    A('};')
    A('')
    A('/* feature hashes, ascending; entries of feature i: vm_off[i] ..')
    A('   vm_off[i + 1] - 1 */')
    A('const uint32_t vm_hash[] = {')
    row = []
    for h in hs:
        row.append('0x%08x,' % h)
        if len(row) == 6:
            A('\t' + ' '.join(row))
            row = []
    if row:
        A('\t' + ' '.join(row))
    A('};')
    A('const size_t vm_nfeat = %d;' % len(hs))
    offs = [0]
    ents = []
    for h in hs:
        for off, m in ((0, cm), (len(cm.labels), rm)):
            for j, y in enumerate(m.labels):
                if y in m.w.get(h, {}):
                    ents.append((off + j, m.w[h][y]))
        offs.append(len(ents))
    nent = len(ents)
    A('const uint32_t vm_off[] = {')
    for i in range(0, len(offs), 8):
        A('\t' + ' '.join('%d,' % o for o in offs[i:i + 8]))
    A('};')
    A('/* label index and log-weight over the label\'s default */')
    A('const struct vm_entry vm_ent[] = {')
    for i in range(0, nent, 6):
        A('\t' + ' '.join('{ %d, %d },' % e for e in ents[i:i + 6]))
    A('};')
    A('')
    path = os.path.join(out, 'probe/judge/verdict_model.c')
    with open(path + '.tmp', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(path + '.tmp', path)
    return len(hs), nent


def fixture(data, rows, cm, rm, out):
    path = os.path.join(out, 'tests/verdict/model-fixture.tsv')
    with open(path + '.tmp', 'w', encoding='latin-1') as f:
        f.write('# GENERATED by tests/verdict/model.py; do not edit.\n')
        f.write('# stage<TAB>reply<TAB>top class<TAB>its score<TAB>'
                'best reason of that class<TAB>number of features\n')
        for i in range(0, len(data), FIXTURE_EVERY):
            d = data[i]
            s = cm.scores(rows[i])
            c = top(s)
            r = reason_of(rm, rows[i], c)
            nf = sum(1 for h in rows[i] if h in cm.w or h in rm.w)
            f.write('%s\t%s\t%s\t%d\t%s\t%d\n' % (d[0], d[3], c, s[c], r,
                                                  nf))
    os.replace(path + '.tmp', path)


def main(argv):
    out = TOP
    oof = None
    docv = cvonly = False
    i = 1
    while i < len(argv):
        if argv[i] == '--cv':
            docv = True
        elif argv[i] == '--oof' and i + 1 < len(argv):
            i += 1
            oof = argv[i]
        elif argv[i] == '--set' and i + 1 < len(argv):
            i += 1
            k, v = argv[i].split('=', 1)
            globals()[k] = type(globals()[k])(v)
        elif argv[i] == '--cv-only':
            docv = cvonly = True
        elif argv[i] == '--out' and i + 1 < len(argv):
            i += 1
            out = argv[i]
        else:
            sys.stderr.write('usage: model.py [--cv | --cv-only] '
                             '[--oof FILE] [--set NAME=VALUE] '
                             '[--out DIR]\n')
            return 2
        i += 1
    data = load(os.path.join(TOP, 'tests/verdict/train.tsv'))
    rows = [hashes(d[0], d[3]) for d in data]
    if docv or oof is not None:
        cv(data, rows, oof)
    if cvonly:
        return 0
    cm = LR(rows, [d[1] for d in data])
    rm = reason_model(rows, [d[1] + '/' + d[2] for d in data])
    nf, ne = emit(cm, rm, len(data), out)
    fixture(data, rows, cm, rm, out)
    sys.stderr.write('model.py: %d lines, %d features, %d entries\n' %
                     (len(data), nf, ne))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
