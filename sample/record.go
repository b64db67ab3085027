package sample

import (
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/google/uuid"
)

// record is the made-up primary record a sample is about.
type record struct {
	table   string
	id      string
	message string
	step    endpoint.Step
	columns []endpoint.Column
	types   map[string]string // column → AttributeType
	now     time.Time
	owner   string
}

// handful is how many of the table's columns stand for "all columns".
const handful = 5

func newRecord(in Input) record {
	r := record{table: in.Step.Table, id: uuid.NewString(), message: in.Step.Message, step: in.Step,
		columns: in.Columns, types: map[string]string{}, now: in.Now.UTC().Truncate(time.Second), owner: orNew(in.UserID)}
	for _, c := range in.Columns {
		r.types[c.LogicalName] = c.Type
	}
	return r
}

func (r record) primaryKey() string { return r.table + "id" }

func (r record) ref() EntityReference { return EntityReference{ID: r.id, LogicalName: r.table} }

// parameters are the message's input and output parameters, as far as a sample knows them.
func (r record) parameters() (in, out []Parameter) {
	switch r.message {
	case "Create":
		return []Parameter{{Key: "Target", Value: r.entity(r.targetColumns())}},
			[]Parameter{{Key: "id", Value: GUID(r.id)}}
	case "Update":
		return []Parameter{{Key: "Target", Value: r.entity(r.targetColumns())}}, nil
	case "Delete":
		return []Parameter{{Key: "Target", Value: r.ref()}}, nil
	case "Assign":
		return []Parameter{{Key: "Target", Value: r.ref()},
			{Key: "Assignee", Value: EntityReference{ID: r.owner, LogicalName: "systemuser"}}}, nil
	case "SetState", "SetStateDynamicEntity":
		return []Parameter{{Key: "EntityMoniker", Value: r.ref()},
			{Key: "State", Value: OptionSetValue(1)}, {Key: "Status", Value: OptionSetValue(2)}}, nil
	}
	// Other messages bound to a table take the record as Target.
	return []Parameter{{Key: "Target", Value: r.ref()}}, nil
}

// targetColumns are the columns a Create or Update carries: the step's filtering attributes,
// else its images' columns, else a handful of the table's.
func (r record) targetColumns() []string {
	if len(r.step.FilteringAttributes) > 0 {
		return r.step.FilteringAttributes
	}
	var cols []string
	for _, im := range r.step.Images {
		cols = appendNew(cols, im.Attributes...)
	}
	if len(cols) > 0 {
		return cols
	}
	return r.someColumns()
}

// imageColumns are an image's columns; an image of every column gets a handful of them.
func (r record) imageColumns(im endpoint.StepImage) []string {
	if len(im.Attributes) > 0 {
		return im.Attributes
	}
	return r.someColumns()
}

func (r record) someColumns() []string {
	var cols []string
	for _, c := range r.columns {
		if len(cols) == handful {
			break
		}
		if c.LogicalName != r.primaryKey() {
			cols = append(cols, c.LogicalName)
		}
	}
	return cols
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		seen := false
		for _, l := range list {
			seen = seen || l == it
		}
		if !seen {
			list = append(list, it)
		}
	}
	return list
}

// entity is the record with the columns (and its primary key, as Dataverse includes it).
func (r record) entity(columns []string) *Entity {
	e := &Entity{LogicalName: r.table, ID: r.id}
	for _, c := range appendNew(append([]string(nil), columns...), r.primaryKey()) {
		e.Attributes = append(e.Attributes, Parameter{Key: c, Value: r.value(c)})
	}
	return e
}

// value is a plausible value of column c, typed from its AttributeType.
func (r record) value(c string) any {
	if c == r.primaryKey() {
		return GUID(r.id)
	}
	switch r.types[c] {
	case "Integer":
		return 42
	case "BigInt":
		return int64(4200000000)
	case "Decimal":
		return Decimal("12.5")
	case "Double":
		return 12.5
	case "Money":
		return Money("1250.00")
	case "Boolean":
		return true
	case "DateTime":
		return r.now
	case "Picklist", "Status":
		return OptionSetValue(1)
	case "State":
		return OptionSetValue(0)
	case "Uniqueidentifier":
		return GUID(uuid.NewString())
	case "Owner":
		return EntityReference{ID: r.owner, LogicalName: "systemuser"}
	case "Customer":
		return EntityReference{ID: uuid.NewString(), LogicalName: "account"}
	case "Lookup":
		return EntityReference{ID: uuid.NewString(), LogicalName: lookupTarget(c)}
	}
	return "Sample " + c
}

// lookupTarget guesses a lookup column's table from its name: createdby → systemuser,
// parentaccountid → account, transactioncurrencyid → transactioncurrency.
func lookupTarget(column string) string {
	switch column {
	case "createdby", "modifiedby", "createdonbehalfby", "modifiedonbehalfby", "ownerid", "owninguser":
		return "systemuser"
	}
	t := strings.TrimSuffix(column, "id")
	for _, p := range []string{"parent", "primary"} {
		if rest, ok := strings.CutPrefix(t, p); ok && rest != "" {
			t = rest
		}
	}
	return t
}
