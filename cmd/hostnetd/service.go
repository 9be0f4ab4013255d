package main

import (
	"errors"
	"flag"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
)

// serviceFlags are the flags of running as a service: access control of
// the listeners and the stop.
type serviceFlags struct {
	socketGroup   string
	tokensFile    string
	usersFile     string
	tlsCert       string
	tlsKey        string
	tokenLifetime time.Duration
	rateLimit     float64
	rateBurst     int
	shutdownGrace time.Duration
}

func (s *serviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.socketGroup, "socket-group", "", "group (name or number) of the Unix sockets, whose members may use them (mode 0660)")
	fs.StringVar(&s.tokensFile, "tokens-file", "", "bearer tokens for TCP listeners, one \"TOKEN ro|rw [NAME]\" per line; mode 0600")
	fs.StringVar(&s.usersFile, "users-file", "", "users of the SSO token endpoint, one \"USER:BCRYPT-HASH:ro|rw\" per line; mode 0600")
	fs.StringVar(&s.tlsCert, "tls-cert", "", "certificate (PEM, with its chain) served on TCP listeners; required on a non-loopback address")
	fs.StringVar(&s.tlsKey, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.DurationVar(&s.tokenLifetime, "token-lifetime", agent.DefaultTokenLifetime, "lifetime of the tokens the SSO endpoint issues")
	fs.Float64Var(&s.rateLimit, "rate-limit", agent.DefaultRateLimit, "requests per second one TCP client address may sustain; 0 for no limit")
	fs.IntVar(&s.rateBurst, "rate-burst", agent.DefaultRateBurst, "requests one TCP client address may send at once")
	fs.DurationVar(&s.shutdownGrace, "shutdown-grace", engine.DefaultShutdownGrace, "on SIGTERM, how long the transaction in flight may run on before it is cancelled and rolled back")
}

func (s *serviceFlags) access() agent.AccessOptions {
	rate := s.rateLimit
	if rate == 0 {
		rate = -1 // the flag's 0 means no limit; the option's 0 means the default
	}
	return agent.AccessOptions{TokensFile: s.tokensFile, UsersFile: s.usersFile, TokenLifetime: s.tokenLifetime,
		RateLimit: rate, RateBurst: s.rateBurst}
}

// listenOptions loads the TLS certificate, if any, and checks every
// listen address before anything is bound.
func (s *serviceFlags) listenOptions(specs []string) (agent.ListenOptions, error) {
	o := agent.ListenOptions{SocketGroup: s.socketGroup, Credentials: s.tokensFile != "" || s.usersFile != ""}
	if (s.tlsCert == "") != (s.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	if s.tlsCert != "" {
		cfg, err := agent.LoadTLS(s.tlsCert, s.tlsKey)
		if err != nil {
			return o, err
		}
		o.TLS = cfg
	}
	for _, spec := range specs {
		if err := agent.CheckListen(spec, o); err != nil {
			return o, err
		}
	}
	return o, nil
}
