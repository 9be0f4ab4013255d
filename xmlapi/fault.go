package xmlapi

// Fault is an oVirt fault: a reason, a human detail and hostnetd's stable
// machine-readable code.
type Fault struct {
	Reason string
	Detail string
	Code   string
}

// FaultNode renders a bare <fault>. The detail ends with the code in
// parentheses, as the engine's details end with its message key.
func FaultNode(f Fault) *Node {
	return Elem("fault",
		Text("reason", f.Reason),
		Text("detail", "["+f.Detail+" ("+f.Code+")]"),
		Text("code", f.Code),
	)
}
