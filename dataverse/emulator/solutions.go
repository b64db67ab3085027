package emulator

import (
	"fmt"
	"maps"
)

// Solutions, as far as the portal needs them: which solution each service endpoint belongs
// to, and whether that solution is managed. Dataverse lists a solution's parts in
// solutioncomponents (componenttype 95 is a service endpoint, objectid its id) and the
// solutions in solutions. Both are read-only here: a create with the header
// MSCRM.SolutionUniqueName adds a component to an unmanaged solution, and ImportSolution plays
// a solution import.

// ComponentTypeServiceEndpoint is solutioncomponent.componenttype for a service endpoint.
const ComponentTypeServiceEndpoint = 95

var solutionEntity = newEntity("solution", "solutions", 7100, "Solution", []*column{
	{name: "solutionid", typ: tGUID},
	{name: "uniquename", typ: tString, max: 65},
	{name: "friendlyname", typ: tString, max: 256},
	{name: "ismanaged", typ: tBool},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

var solutionComponentEntity = newEntity("solutioncomponent", "solutioncomponents", 7103, "Solution", []*column{
	{name: "solutioncomponentid", typ: tGUID},
	{name: "objectid", typ: tGUID},
	{name: "componenttype", typ: tInt},
	{name: "ismetadata", typ: tBool},
	{name: "_solutionid_value", typ: tLookup, readOnly: true},
	{name: "versionnumber", typ: tInt, readOnly: true},
}, nil)

func init() {
	solutionComponentEntity.navs = map[string]navigation{
		"solutionid": {target: solutionEntity, column: "_solutionid_value"},
	}
	seededEntities[solutionEntity.set] = solutionEntity
	seededEntities[solutionComponentEntity.set] = solutionComponentEntity
}

// addComponent records that the service endpoint id belongs to the solution uniqueName
// (created unmanaged when new); the caller holds the store lock.
func (s *Server) addComponentLocked(uniqueName, friendlyName string, managed bool, id string) error {
	solID := derivedGUID("solution:" + s.name + ":" + uniqueName)
	if _, ok := s.store.get(solutionEntity.set, solID); !ok {
		if friendlyName == "" {
			friendlyName = uniqueName
		}
		if err := s.store.put(solutionEntity.set, solID, record{"solutionid": solID, "uniquename": uniqueName,
			"friendlyname": friendlyName, "ismanaged": managed, "versionnumber": s.nextVersion()}); err != nil {
			return err
		}
	}
	compID := derivedGUID("component:" + solID + ":" + id)
	return s.store.put(solutionComponentEntity.set, compID, record{"solutioncomponentid": compID, "objectid": id,
		"componenttype": float64(ComponentTypeServiceEndpoint), "ismetadata": false, "_solutionid_value": solID,
		"versionnumber": s.nextVersion()})
}

// Solution describes a solution for ImportSolution.
type Solution struct {
	UniqueName   string
	FriendlyName string
	Managed      bool
}

// ImportSolution plays a solution import of service endpoints (Web API payloads, as
// CreateRecord takes them): each is created without its secrets (saskey, sastoken and authvalue
// are never carried by a solution, so the record says issaskeyset false; a secret in a payload
// is dropped), marked ismanaged when
// the solution is managed, and listed as one of the solution's components. It returns the ids.
func (s *Server) ImportSolution(sol Solution, endpoints ...map[string]any) ([]string, error) {
	var ids []string
	for _, payload := range endpoints {
		// Created with the rules of a create (which want a secret), then stripped of its
		// secrets as the import leaves it.
		p := maps.Clone(payload)
		switch fmt.Sprint(p["authtype"]) {
		case "2":
			setDefault(p, "saskey", devKey("import"))
		case "3":
			setDefault(p, "sastoken", "SharedAccessSignature sr=import&sig=import&se=1893456000&skn=import")
		case "4", "5", "6":
			setDefault(p, "authvalue", "import")
		}
		id, err := s.CreateRecord(serviceEndpointEntity.set, p)
		if err != nil {
			return ids, err
		}
		s.store.mu.Lock()
		row, _ := s.store.get(serviceEndpointEntity.set, id)
		row = maps.Clone(row)
		delete(row, "saskey")
		delete(row, "sastoken")
		delete(row, "authvalue")
		row["ismanaged"] = sol.Managed
		deriveFlags(serviceEndpointEntity, row)
		err = s.store.put(serviceEndpointEntity.set, id, row)
		if err == nil {
			err = s.addComponentLocked(sol.UniqueName, sol.FriendlyName, sol.Managed, id)
		}
		s.store.mu.Unlock()
		if err != nil {
			return ids, fmt.Errorf("dataverse emulator: import %s: %w", sol.UniqueName, err)
		}
		s.mu.Lock()
		s.solutions[sol.UniqueName] = append(s.solutions[sol.UniqueName], id)
		s.mu.Unlock()
		ids = append(ids, id)
	}
	return ids, nil
}
