package rbac

import (
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/keyhold/keyhold/internal/apperr"
	"github.com/keyhold/keyhold/internal/storage"
)

// A condition is a CEL expression (github.com/google/cel-go, the module cel.dev/cel-go) that
// a role assignment may carry: the assignment grants only when it holds. It reads four
// variables, each a map from string to any JSON value (docs/api.md, "Conditions"):
//
//	subject   the request's subject (type, id, properties) and attributes: the stored
//	          attributes of the user the decision is about (free attributes, id, email,
//	          externalId, firstName, lastName, active)
//	resource  the request's resource (type, id, properties)
//	action    the request's action (name, properties)
//	context   the request's context
//
// It is compiled and type-checked once, when the assignment is written (a 400 naming the
// position of an error) and when the engine's view takes the assignment in; a decision only
// evaluates the compiled program. Its cost is bounded twice: the checker's estimate at
// write time (inputs are bounded by the request body limit), and an actual cost limit at
// every evaluation. An evaluation that fails (a property the request does not carry, a
// value of the wrong type, the cost limit) is false: conditions fail closed.

// Limits of conditions.
const (
	// MaxConditionLength bounds the text of a condition, in bytes.
	MaxConditionLength = storage.MaxConditionLength
	// MaxConditionCost bounds a condition's cost (CEL cost units: about one per operation,
	// and per 10 bytes of a string compared), estimated at write time over inputs of the
	// largest size a request can carry, and measured at every evaluation.
	MaxConditionCost = 100_000
	// maxConditionDepth bounds the nesting of a condition's expression.
	maxConditionDepth = 32
	// maxInputSize is the largest size (bytes, elements) of a value a condition reads: a
	// decision request's body is at most 64 KiB.
	maxInputSize = 64 << 10
)

// The variables of conditions.
const (
	VarSubject  = "subject"
	VarResource = "resource"
	VarAction   = "action"
	VarContext  = "context"
)

// Condition is a compiled condition. It is immutable and safe for concurrent use.
type Condition struct {
	Text string
	prg  cel.Program
}

var (
	condEnvOnce sync.Once
	condEnv     *cel.Env
	condEnvErr  error
)

// conditionEnv is the CEL environment of conditions: the four variables, the standard
// library, bounded parsing.
func conditionEnv() (*cel.Env, error) {
	condEnvOnce.Do(func() {
		dynMap := cel.MapType(cel.StringType, cel.DynType)
		condEnv, condEnvErr = cel.NewEnv(
			cel.Variable(VarSubject, dynMap), cel.Variable(VarResource, dynMap),
			cel.Variable(VarAction, dynMap), cel.Variable(VarContext, dynMap),
			cel.ParserRecursionLimit(maxConditionDepth),
			cel.ParserExpressionSizeLimit(MaxConditionLength),
		)
	})
	return condEnv, condEnvErr
}

// CompileCondition parses, type-checks and plans a condition. Errors are 400s on field (the
// request member that carried it), naming the line and column of the first problem.
func CompileCondition(field, text string) (*Condition, error) {
	switch {
	case text == "":
		return nil, apperr.Field(field, "must not be empty (leave it out for an unconditional assignment)")
	case len(text) > MaxConditionLength:
		return nil, apperr.Field(field, "must be at most %d bytes", MaxConditionLength)
	case !utf8.ValidString(text):
		return nil, apperr.Field(field, "must be UTF-8 text")
	}
	env, err := conditionEnv()
	if err != nil {
		return nil, apperr.Wrap(err, "condition environment")
	}
	ast, iss := env.Compile(text)
	if iss != nil && iss.Err() != nil {
		return nil, apperr.Field(field, "%s", issueText(iss))
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, apperr.Field(field, "must be a boolean expression (this one is of type %s)", t)
	}
	est, err := env.EstimateCost(ast, boundedInputs{})
	if err != nil {
		return nil, apperr.Field(field, "cost cannot be estimated: %s", err.Error())
	}
	if est.Max > MaxConditionCost {
		return nil, apperr.Field(field, "may cost up to %d units over the largest inputs a request carries; the limit is %d (avoid iterating over request data)",
			est.Max, MaxConditionCost)
	}
	c, err := plan(env, ast, text)
	if err != nil {
		return nil, apperr.Field(field, "%s", err.Error())
	}
	return c, nil
}

// plan makes the program of a checked condition, with the cost limit of every evaluation.
func plan(env *cel.Env, ast *cel.Ast, text string) (*Condition, error) {
	prg, err := env.Program(ast, cel.CostLimit(MaxConditionCost), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &Condition{Text: text, prg: prg}, nil
}

// issueText is the first error of a failed compile, with its position ("line 1, column 5:
// ..."), columns counted from 1.
func issueText(iss *cel.Issues) string {
	errs := iss.Errors()
	if len(errs) == 0 {
		return iss.Err().Error()
	}
	e := errs[0]
	msg := e.Message
	if e.Location != nil && e.Location.Line() > 0 {
		msg = fmt.Sprintf("line %d, column %d: %s", e.Location.Line(), e.Location.Column()+1, msg)
	}
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
	}
	return msg
}

// boundedInputs tells the cost estimator that every value read from the variables is at
// most maxInputSize long: the request's body limit bounds them.
type boundedInputs struct{}

func (boundedInputs) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if len(n.Path()) > 0 {
		return &cost.SizeEstimate{Min: 0, Max: maxInputSize}
	}
	return nil
}

func (boundedInputs) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// Vars are the variables of one decision's conditions. Each is a map of JSON values
// (string, float64, bool, nil, []any, map[string]any); a nil map is empty. A Vars belongs to
// one decision, read by one goroutine.
type Vars struct {
	Subject, Resource, Action, Context map[string]any
	// Load, when set, supplies a variable that is still nil the first time a condition reads
	// it, and the answer is kept: a request's variables are then built only when a condition
	// reads them (most read two of the four).
	Load func(name string) map[string]any
}

// ResolveName implements interpreter.Activation.
func (v *Vars) ResolveName(name string) (any, bool) {
	var m *map[string]any
	switch name {
	case VarSubject:
		m = &v.Subject
	case VarResource:
		m = &v.Resource
	case VarAction:
		m = &v.Action
	case VarContext:
		m = &v.Context
	default:
		return nil, false
	}
	if *m == nil && v.Load != nil {
		*m = v.Load(name)
	}
	if *m == nil {
		*m = map[string]any{}
	}
	return *m, true
}

// Parent implements interpreter.Activation.
func (v *Vars) Parent() interpreter.Activation { return nil }

// errNotBool is the evaluation error of a condition whose value is not a boolean.
var errNotBool = errors.New("the condition's value is not a boolean")

// Eval evaluates the condition over vars. Any failure (a missing key, a type mismatch, the
// cost limit) is an error, and the condition does not hold.
func (c *Condition) Eval(vars *Vars) (bool, error) {
	if c == nil || c.prg == nil {
		return false, errors.New("the condition does not compile")
	}
	out, _, err := c.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, errNotBool
	}
	return b, nil
}
