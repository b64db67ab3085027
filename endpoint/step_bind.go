package endpoint

import (
	"slices"
	"strings"
)

// FindMessage returns the message of msgs named name (ignoring case), or nil.
func FindMessage(msgs []Message, name string) *Message {
	for i := range msgs {
		if strings.EqualFold(msgs[i].Name, name) {
			return &msgs[i]
		}
	}
	return nil
}

// Bind completes st with what Dataverse says of its message m: the message's exact name and
// id, the filter of st's table (the global filter when st has no table), and the message
// property its images are taken from. A nil m clears the message and filter ids.
func (st Step) Bind(m *Message) Step {
	st.MessageID, st.FilterID = "", ""
	if m != nil {
		st.Message, st.MessageID = m.Name, m.ID
		for _, f := range m.Filters {
			if f.CustomStepAllowed && (f.Table == st.Table || st.Table == "" && f.Table == noTable) {
				st.FilterID = f.ID
			}
		}
	}
	if _, _, prop := ImageSupport(st.Message); prop != "" {
		st.Images = slices.Clone(st.Images)
		for i := range st.Images {
			st.Images[i].MessageProperty = prop
		}
	}
	return st
}
