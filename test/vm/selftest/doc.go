// Package selftest checks the VM test harness itself (test/vm): its test,
// built only with the vmtest tag, passes inside the VM and fails on purpose
// when HOSTNETD_VM_SELFTEST=fail, so that test/vm/selftest.sh can prove that
// failures and their output come back through vmexec.
package selftest
