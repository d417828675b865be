package rbac

// condTable holds the compiled conditions of the view's conditional assignments, shared by
// text (many assignments carry the same condition, e.g. an owner rule: it is compiled once)
// and reference-counted. Index 0 is "no condition", so that an assignment record holds a
// plain index and no pointer.
type condTable struct {
	ents   []condEnt
	free   []uint32
	byText map[string]uint32
}

type condEnt struct {
	c    *Condition
	refs int
}

func newCondTable() condTable {
	return condTable{ents: make([]condEnt, 1), byText: map[string]uint32{}}
}

// intern returns the index of the compiled condition text, compiling it on first use. A
// text that no longer compiles (stored by another version) gets a condition that never
// holds: the assignment grants nothing.
func (t *condTable) intern(text string) uint32 {
	if i, ok := t.byText[text]; ok {
		t.ents[i].refs++
		return i
	}
	c, err := CompileCondition("condition", text)
	if err != nil {
		c = &Condition{Text: text}
	}
	i := place(&t.ents, &t.free, condEnt{c: c, refs: 1})
	t.byText[text] = i
	return i
}

// release drops one reference to condition i (0: none).
func (t *condTable) release(i uint32) {
	if i == 0 {
		return
	}
	if t.ents[i].refs--; t.ents[i].refs > 0 {
		return
	}
	delete(t.byText, t.ents[i].c.Text)
	t.ents[i] = condEnt{}
	t.free = append(t.free, i)
}

// get returns condition i.
func (t *condTable) get(i uint32) *Condition { return t.ents[i].c }
