package emulator

import (
	"bytes"
	"net/http"
	"strings"
)

// attribute is one column of a table as EntityDefinitions(...)/Attributes describes it.
type attribute struct {
	logical, display, typ string
	update                bool   // IsValidForUpdate
	of                    string // AttributeOf: the column this one accompanies
}

// commonAttributes are the columns every user-owned table has.
var commonAttributes = []attribute{
	{"ownerid", "Owner", "Owner", true, ""},
	{"owneridname", "", "String", false, "ownerid"},
	{"owneridtype", "", "EntityName", true, "ownerid"},
	{"owningbusinessunit", "Owning Business Unit", "Lookup", false, ""},
	{"owninguser", "Owning User", "Lookup", false, ""},
	{"owningteam", "Owning Team", "Lookup", false, ""},
	{"statecode", "Status", "State", true, ""},
	{"statecodename", "", "Virtual", false, "statecode"},
	{"statuscode", "Status Reason", "Status", true, ""},
	{"statuscodename", "", "Virtual", false, "statuscode"},
	{"createdon", "Created On", "DateTime", false, ""},
	{"createdby", "Created By", "Lookup", false, ""},
	{"createdbyname", "", "String", false, "createdby"},
	{"modifiedon", "Modified On", "DateTime", false, ""},
	{"modifiedby", "Modified By", "Lookup", false, ""},
	{"modifiedbyname", "", "String", false, "modifiedby"},
	{"overriddencreatedon", "Record Created On", "DateTime", false, ""},
	{"importsequencenumber", "Import Sequence Number", "Integer", false, ""},
	{"versionnumber", "Version Number", "BigInt", false, ""},
	{"transactioncurrencyid", "Currency", "Lookup", true, ""},
}

// tableAttributes are the seeded tables' columns.
var tableAttributes = map[string][]attribute{
	"account": append([]attribute{
		{"accountid", "Account", "Uniqueidentifier", false, ""},
		{"name", "Account Name", "String", true, ""},
		{"accountnumber", "Account Number", "String", true, ""},
		{"telephone1", "Main Phone", "String", true, ""},
		{"telephone2", "Other Phone", "String", true, ""},
		{"fax", "Fax", "String", true, ""},
		{"emailaddress1", "Email", "String", true, ""},
		{"websiteurl", "Website", "String", true, ""},
		{"address1_line1", "Address 1: Street 1", "String", true, ""},
		{"address1_city", "Address 1: City", "String", true, ""},
		{"address1_postalcode", "Address 1: ZIP/Postal Code", "String", true, ""},
		{"address1_country", "Address 1: Country/Region", "String", true, ""},
		{"primarycontactid", "Primary Contact", "Lookup", true, ""},
		{"primarycontactidname", "", "String", false, "primarycontactid"},
		{"parentaccountid", "Parent Account", "Lookup", true, ""},
		{"revenue", "Annual Revenue", "Money", true, ""},
		{"revenue_base", "Annual Revenue (Base)", "Money", false, "revenue"},
		{"numberofemployees", "Number of Employees", "Integer", true, ""},
		{"industrycode", "Industry", "Picklist", true, ""},
		{"customertypecode", "Relationship Type", "Picklist", true, ""},
		{"creditlimit", "Credit Limit", "Money", true, ""},
		{"creditonhold", "Credit Hold", "Boolean", true, ""},
		{"description", "Description", "Memo", true, ""},
		{"entityimage", "Default Image", "Virtual", true, ""},
	}, commonAttributes...),
	"contact": append([]attribute{
		{"contactid", "Contact", "Uniqueidentifier", false, ""},
		{"fullname", "Full Name", "String", false, ""},
		{"firstname", "First Name", "String", true, ""},
		{"lastname", "Last Name", "String", true, ""},
		{"jobtitle", "Job Title", "String", true, ""},
		{"parentcustomerid", "Company Name", "Customer", true, ""},
		{"parentcustomeridname", "", "String", false, "parentcustomerid"},
		{"telephone1", "Business Phone", "String", true, ""},
		{"mobilephone", "Mobile Phone", "String", true, ""},
		{"emailaddress1", "Email", "String", true, ""},
		{"address1_line1", "Address 1: Street 1", "String", true, ""},
		{"address1_city", "Address 1: City", "String", true, ""},
		{"address1_postalcode", "Address 1: ZIP/Postal Code", "String", true, ""},
		{"address1_country", "Address 1: Country/Region", "String", true, ""},
		{"birthdate", "Birthday", "DateTime", true, ""},
		{"gendercode", "Gender", "Picklist", true, ""},
		{"preferredcontactmethodcode", "Preferred Method of Contact", "Picklist", true, ""},
		{"donotemail", "Do not allow Emails", "Boolean", true, ""},
		{"description", "Description", "Memo", true, ""},
	}, commonAttributes...),
	"incident": append([]attribute{
		{"incidentid", "Case", "Uniqueidentifier", false, ""},
		{"title", "Case Title", "String", true, ""},
		{"ticketnumber", "Case Number", "String", false, ""},
		{"customerid", "Customer", "Customer", true, ""},
		{"customeridname", "", "String", false, "customerid"},
		{"primarycontactid", "Contact", "Lookup", true, ""},
		{"prioritycode", "Priority", "Picklist", true, ""},
		{"severitycode", "Severity", "Picklist", true, ""},
		{"caseorigincode", "Origin", "Picklist", true, ""},
		{"casetypecode", "Case Type", "Picklist", true, ""},
		{"productid", "Product", "Lookup", true, ""},
		{"followupby", "Follow Up By", "DateTime", true, ""},
		{"escalatedon", "Escalated On", "DateTime", false, ""},
		{"isescalated", "Is Escalated", "Boolean", true, ""},
		{"resolveby", "Resolve By", "DateTime", true, ""},
		{"description", "Description", "Memo", true, ""},
	}, commonAttributes...),
	"contoso_shipment": append([]attribute{
		{"contoso_shipmentid", "Shipment", "Uniqueidentifier", false, ""},
		{"contoso_name", "Shipment Number", "String", true, ""},
		{"contoso_accountid", "Customer Account", "Lookup", true, ""},
		{"contoso_accountidname", "", "String", false, "contoso_accountid"},
		{"contoso_carrier", "Carrier", "Picklist", true, ""},
		{"contoso_trackingnumber", "Tracking Number", "String", true, ""},
		{"contoso_origincity", "Origin City", "String", true, ""},
		{"contoso_destinationcity", "Destination City", "String", true, ""},
		{"contoso_shippedon", "Shipped On", "DateTime", true, ""},
		{"contoso_deliveredon", "Delivered On", "DateTime", true, ""},
		{"contoso_weightkg", "Weight (kg)", "Decimal", true, ""},
		{"contoso_value", "Declared Value", "Money", true, ""},
		{"contoso_isfragile", "Fragile", "Boolean", true, ""},
		{"contoso_approved", "Approved", "Boolean", true, ""},
		{"contoso_notes", "Notes", "Memo", true, ""},
	}, commonAttributes...),
}

// attributeProperties are the properties an attribute can be $selected by.
var attributeProperties = []string{"LogicalName", "SchemaName", "DisplayName", "AttributeType", "IsValidForUpdate", "IsValidForRead", "AttributeOf", "MetadataId"}

// serveAttributes answers EntityDefinitions(LogicalName='<table>')/Attributes with $select.
func (s *Server) serveAttributes(w http.ResponseWriter, r *http.Request, key string) *apiError {
	if r.Method != http.MethodGet {
		return &apiError{status: 405, code: codeQuerySyntax, message: "The emulator serves table metadata read-only."}
	}
	name, ok := strings.CutPrefix(key, "LogicalName='")
	name, ok2 := strings.CutSuffix(name, "'")
	if !ok || !ok2 {
		return badRequest(codeQuerySyntax, "Bad Request - Error in query syntax: expected EntityDefinitions(LogicalName='<table>'), got '%s'.", key)
	}
	attrs, found := tableAttributes[name]
	if !found {
		return &apiError{status: 404, code: codeNotFound, message: "Could not find entity with LogicalName = '" + name + "'."}
	}
	sel := attributeProperties
	if q := r.URL.Query().Get("$select"); q != "" {
		sel = nil
		for p := range strings.SplitSeq(q, ",") {
			p = strings.TrimSpace(p)
			found := false
			for _, a := range attributeProperties {
				found = found || a == p
			}
			if !found {
				return badRequest(codeNoSuchProperty, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'.", p)
			}
			sel = append(sel, p)
		}
	}
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":`)
	writeJSONString(&buf, s.url+APIPath+"$metadata#EntityDefinitions('"+name+"')/Attributes")
	buf.WriteString(`,"value":[`)
	for i, a := range attrs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"@odata.type":`)
		writeJSONString(&buf, "#Microsoft.Dynamics.CRM."+a.typ+"AttributeMetadata")
		for _, p := range sel {
			buf.WriteByte(',')
			writeJSONString(&buf, p)
			buf.WriteByte(':')
			switch p {
			case "LogicalName":
				writeJSONString(&buf, a.logical)
			case "SchemaName":
				writeJSONString(&buf, a.logical)
			case "DisplayName":
				if a.display == "" {
					buf.WriteString(`{"LocalizedLabels":[],"UserLocalizedLabel":null}`)
				} else {
					buf.WriteString(`{"LocalizedLabels":[{"Label":`)
					writeJSONString(&buf, a.display)
					buf.WriteString(`,"LanguageCode":1033}],"UserLocalizedLabel":{"Label":`)
					writeJSONString(&buf, a.display)
					buf.WriteString(`,"LanguageCode":1033}}`)
				}
			case "AttributeType":
				writeJSONString(&buf, a.typ)
			case "IsValidForUpdate":
				buf.WriteString(boolJSON(a.update))
			case "IsValidForRead":
				buf.WriteString("true")
			case "AttributeOf":
				if a.of == "" {
					buf.WriteString("null")
				} else {
					writeJSONString(&buf, a.of)
				}
			case "MetadataId":
				writeJSONString(&buf, derivedGUID("attribute:"+name+":"+a.logical))
			}
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]}")
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	w.WriteHeader(200)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
