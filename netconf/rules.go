package netconf

import "fmt"

// RuleError is a validation failure: the request breaks one of the rules of
// setupnetworks. Code is the oVirt engine message key (or the VDSM family
// with a suffix where the engine has none); Conflict marks the rules the
// engine types CONFLICT (HTTP 409), every other rule is a bad request.
type RuleError struct {
	Code     string
	Conflict bool
	Msg      string
	// Bare says Msg stands alone: a rule of the catalogue or of a single
	// resource, not one of a setupnetworks request.
	Bare bool
}

func (e *RuleError) Error() string { return e.Msg + " (" + e.Code + ")" }

func ruleErr(code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func conflictErr(code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Conflict: true, Msg: fmt.Sprintf(format, args...)}
}

// Rule codes, from semantics §8.
const (
	CodeConnectivityTimeoutInvalid  = "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID"
	CodeNetworkNotInSync            = "NETWORK_NOT_IN_SYNC"
	CodeNullAttachment              = "NULL_PASSED_AS_NETWORK_ATTACHMENT"
	CodeAttachmentNotExists         = "MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS"
	CodeAttachmentNetworkNotSet     = "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET"
	CodeNetworkIDNotExists          = "NETWORK_HAVING_ID_NOT_EXISTS"
	CodeNetworkNameNotExists        = "NETWORK_HAVING_NAME_NOT_EXISTS"
	CodeAttachmentNicsIncoherent    = "NETWORK_ATTACHMENT_REFERENCES_NICS_INCOHERENTLY"
	CodeAttachmentNetworkIncoherent = "NETWORK_ATTACHMENT_REFERENCES_NETWORK_INCOHERENTLY"
	CodeAttachmentInBothLists       = "NETWORK_ATTACHMENT_IN_BOTH_LISTS"
	CodeAttachmentReferencesVLAN    = "ATTACHMENT_REFERENCE_VLAN_DEVICE"
	CodeAttachmentNotReused         = "ATTACHMENT_IS_NOT_REUSED"
	CodeRoleNetworkNoBootProtocol   = "ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL"
	CodeNicNameNotSet               = "HOST_NETWORK_INTERFACE_DOES_NOT_HAVE_NAME_SET"
	CodeNicNotExists                = "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"
	CodeCannotChangeNetwork         = "CANNOT_CHANGE_ATTACHED_NETWORK"
	CodeMissingBootProtocol         = "NETWORK_ATTACHMENT_IP_CONFIGURATION_MISSING_BOOT_PROTOCOL"
	CodeStaticMissingDetails        = "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS"
	CodeIncompatibleBootProtocol    = "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS"
	CodeIPv6GatewayNotDefaultRoute  = "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE"
	CodeBadAddr                     = "BAD_ADDR_INVALID"
	CodePrefixAndNetmask            = "BAD_PARAMS_PREFIX_AND_NETMASK"
	CodeMultipleDefaultRoute        = "BAD_PARAMS_MULTIPLE_DEFAULT_ROUTE"
	CodeNameserversNotDefaultRoute  = "BAD_PARAMS_NAMESERVERS_NOT_DEFAULT_ROUTE"
	CodeBadNameserver               = "BAD_ADDR_NAMESERVER"
	CodeRemovedAttachmentNotExists  = "NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS"
	CodeCannotRemoveManagement      = "NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK"
	CodeBadBridgeName               = "BAD_BRIDGE_NAME"
	CodeVLANOutOfRange              = "NETWORK_VLAN_OUT_OF_RANGE"
	CodeVLANNoSouthbound            = "BAD_VLAN_NO_SOUTHBOUND"
	CodeNoSouthbound                = "BAD_PARAMS_NO_SOUTHBOUND"
	CodeTwoUntagged                 = "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"
	CodeVLANInUse                   = "NETWORK_VLAN_IN_USE"
	CodeSameNetworkTwice            = "ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY"
	CodeNetworkAlreadyAttached      = "NETWORKS_ALREADY_ATTACHED_TO_IFACES"
	CodeMTUDifferences              = "NETWORK_MTU_DIFFERENCES"
	CodeMTUInvalid                  = "MTU_VALUE_INVALID"
	CodeBadCustomProperties         = "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT"
	CodeBadSTP                      = "BAD_PARAMS_STP"
	CodeBondNoIDNorName             = "BOND_DOES_NOT_HAVE_NEITHER_ID_NOR_NAME_SPECIFIED"
	CodeNicIDNotExists              = "HOST_NETWORK_INTERFACE_HAVING_ID_DOES_NOT_EXIST"
	CodeBondIncoherent              = "BOND_REFERENCES_NICS_INCOHERENTLY"
	CodeBondNameBadFormat           = "NETWORK_BOND_NAME_BAD_FORMAT"
	CodeNotABond                    = "NETWORK_INTERFACE_IS_NOT_BOND"
	CodeBondSlaveCount              = "NETWORK_BONDS_INVALID_SLAVE_COUNT"
	CodeSlaveNotExists              = "HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST"
	CodeSlaveIsBondOrVLAN           = "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE"
	CodeSlaveInOtherBond            = "NETWORK_INTERFACE_ALREADY_IN_BOND"
	CodeSlaveHasNetwork             = "NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE"
	CodeSlaveAndNetworkAtOnce       = "NETWORK_INTERFACE_ADDED_TO_BOND_AND_NETWORK_IS_ATTACHED_TO_IT_AT_THE_SAME_TIME"
	CodeSlaveHasUnmanagedNetwork    = "NETWORK_INTERFACE_WITH_UNMANAGED_NETWORK_CANNOT_BE_SLAVE"
	CodeSlaveReferencedTwice        = "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES"
	CodeBondNotExists               = "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS"
	CodeBondUsedByAttachments       = "BOND_USED_BY_NETWORK_ATTACHMENTS"
	CodeBondUpdatedAndRemoved       = "BONDS_UPDATED_AND_REMOVED_SIMULTANEOUSLY"
	CodeBondModeInvalidForVMNetwork = "INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK"
	CodeBadBondingOption            = "BAD_BONDING_OPTION"
	CodeBadBondingOptionForMode     = "BAD_BONDING_OPTION_FOR_MODE"
	CodeNetworkNameInUse            = "NETWORK_NAME_IN_USE"
	CodeNetworkInUse                = "NETWORK_IS_ATTACHED"
	CodeBadNetworkUsage             = "BAD_PARAMS_NETWORK_USAGE"
	CodeFailedIfup                  = "FAILED_IFUP"
	// Host network QoS (the engine's HostNetworkQosValidator and
	// HostSetupNetworksValidator keys; QOS_TYPE_NOT_SUPPORTED is
	// hostnetd's).
	CodeQoSNotSupported               = "ACTION_TYPE_FAILED_HOST_NETWORK_QOS_NOT_SUPPORTED"
	CodeQoSMissingValues              = "ACTION_TYPE_FAILED_HOST_NETWORK_QOS_MISSING_VALUES"
	CodeQoSSetupNetworksMissingValues = "ACTION_TYPE_FAILED_HOST_NETWORK_QOS_SETUP_NETWORKS_MISSING_VALUES"
	CodeQoSInconsistentValues         = "ACTION_TYPE_FAILED_HOST_NETWORK_QOS_INCONSISTENT_VALUES"
	CodeQoSInterfacesWithoutQoS       = "ACTION_TYPE_FAILED_HOST_NETWORK_QOS_INTERFACES_WITHOUT_QOS"
	CodeQoSOutOfRange                 = "ACTION_TYPE_FAILED_NETWORK_QOS_OUT_OF_RANGE_VALUES"
	CodeQoSNotFound                   = "ACTION_TYPE_FAILED_QOS_NOT_FOUND"
	CodeQoSNameInUse                  = "ACTION_TYPE_FAILED_QOS_NAME_EXIST"
	CodeQoSInUse                      = "ACTION_TYPE_FAILED_QOS_IN_USE"
	CodeQoSTypeNotSupported           = "QOS_TYPE_NOT_SUPPORTED"
)
