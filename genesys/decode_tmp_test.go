package genesys

// decodeConversation turns either family's JSON into the model (temporary
// until the redesign's decodeSuccess lands).
func decodeConversation(fam EndpointFamily, data []byte) (*Conversation, error) {
	op := opGetConversation
	if fam == FamilyCalls {
		op = opGetCall
	}
	w := newWireConversation(fam)
	if err := decodeJSON("application/json", data, w); err != nil {
		return nil, err
	}
	return conversationFrom(op, apiResponse{status: 200}, w)
}
