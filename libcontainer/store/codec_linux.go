package store

import (
	"encoding/json"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
)

// state.json and recover.json are written and read by every command, so
// without encoding/json (issue 18: its first use costs each command more
// than the rest of the store's work). encodeState and encodeRecovery write
// what json.Marshal writes; decodeStateFast reads what json.Unmarshal
// reads, or declines and json.Unmarshal reads it (TestStateCodec,
// FuzzStateCodec).

func encodeState(st *State) ([]byte, error) {
	var config []byte
	if st.Config != nil {
		b, err := st.Config.MarshalJSON()
		if err != nil || !jl.Compact(b) {
			// encoding/json compacts a marshaller's output: leave
			// anything it would change to it.
			return json.Marshal(st)
		}
		config = b
	}
	created, err := st.Created.MarshalJSON()
	if err != nil {
		return json.Marshal(st) // and its error
	}
	var exited []byte
	if st.Exit != nil {
		if exited, err = st.Exit.ExitedAt.MarshalJSON(); err != nil {
			return json.Marshal(st)
		}
	}
	e := jl.NewEnc(512 + len(config))
	w := e.Open()
	jl.S(e, "id", st.ID)
	jl.S(e, "bundle", st.Bundle)
	jl.S(e, "rootfs", st.Rootfs)
	jl.S(e, "phase", st.Phase)
	jl.I(e, "pid", st.Pid)
	jl.U(e, "startTime", st.StartTime)
	e.Key("created")
	e.Raw(created)
	jl.S(e, "owner", st.Owner)
	e.Key("config")
	if config == nil {
		e.Raw([]byte("null"))
	} else {
		e.Raw(config)
	}
	jl.OP(e, "cgroup", st.Cgroup, encSaved)
	jl.OP(e, "exit", st.Exit, func(e *jl.Enc, x *ExitStatus) {
		w := e.Open()
		jl.I(e, "code", x.Code)
		jl.OB(e, "oomKilled", x.OOMKill)
		e.Key("exitedAt")
		e.Raw(exited)
		e.Close(w)
	})
	e.Close(w)
	return e.Bytes(), nil
}

func encodeRecovery(r *recovery) []byte {
	e := jl.NewEnc(256)
	w := e.Open()
	jl.I(e, "pid", r.Pid)
	jl.U(e, "startTime", r.StartTime)
	jl.OP(e, "cgroup", r.Cgroup, encSaved)
	e.Close(w)
	return e.Bytes()
}

func encSaved(e *jl.Enc, s *cgroups.Saved) {
	w := e.Open()
	jl.I(e, "mode", s.Mode)
	jl.OM(e, "v1", s.V1, jl.VS[string])
	jl.OM(e, "v1roots", s.V1Roots, jl.VS[string])
	jl.OS(e, "unified", s.Unified)
	jl.OS(e, "uroot", s.URoot)
	jl.OStrs(e, "v2ctl", s.V2Ctl)
	jl.OB(e, "rootless", s.Rootless)
	jl.OP(e, "systemd", s.Systemd, func(e *jl.Enc, u *cgroups.SavedUnit) {
		w := e.Open()
		jl.S(e, "unit", u.Unit)
		jl.S(e, "slice", u.Slice)
		jl.OB(e, "user", u.User)
		e.Close(w)
	})
	e.Close(w)
}

// decodeStateFast reads state.json as json.Unmarshal would, or declines.
func decodeStateFast(data []byte) (*State, bool) {
	d := jl.NewDec(data)
	if !d.Object() {
		return nil, false
	}
	st := new(State)
	d.Obj(func(k string) bool {
		switch k {
		case "id":
			jl.Str(d, &st.ID)
		case "bundle":
			jl.Str(d, &st.Bundle)
		case "rootfs":
			jl.Str(d, &st.Rootfs)
		case "phase":
			jl.Str(d, &st.Phase)
		case "pid":
			jl.Int(d, &st.Pid)
		case "startTime":
			jl.Uint(d, &st.StartTime)
		case "created":
			decTime(d, &st.Created)
		case "owner":
			jl.Str(d, &st.Owner)
		case "config":
			if !d.Null() {
				st.Config = new(Config)
				_ = st.Config.UnmarshalJSON(d.Raw())
			}
		case "cgroup":
			jl.Ptr(d, &st.Cgroup, decSaved)
		case "exit":
			jl.Ptr(d, &st.Exit, func(d *jl.Dec, x *ExitStatus) {
				d.Obj(func(k string) bool {
					switch k {
					case "code":
						jl.Int(d, &x.Code)
					case "oomKilled":
						jl.Bool(d, &x.OOMKill)
					case "exitedAt":
						decTime(d, &x.ExitedAt)
					default:
						return false
					}
					return true
				})
			})
		default:
			return false
		}
		return true
	})
	return st, d.Done()
}

// decTime reads a time as encoding/json does, through its UnmarshalJSON.
func decTime(d *jl.Dec, t *time.Time) {
	if err := t.UnmarshalJSON(d.Raw()); err != nil {
		d.Fail()
	}
}

func decSaved(d *jl.Dec, s *cgroups.Saved) {
	d.Obj(func(k string) bool {
		switch k {
		case "mode":
			jl.Int(d, &s.Mode)
		case "v1":
			jl.Map(d, &s.V1, jl.Str[string])
		case "v1roots":
			jl.Map(d, &s.V1Roots, jl.Str[string])
		case "unified":
			jl.Str(d, &s.Unified)
		case "uroot":
			jl.Str(d, &s.URoot)
		case "v2ctl":
			d.Strs(&s.V2Ctl)
		case "rootless":
			jl.Bool(d, &s.Rootless)
		case "systemd":
			jl.Ptr(d, &s.Systemd, func(d *jl.Dec, u *cgroups.SavedUnit) {
				d.Obj(func(k string) bool {
					switch k {
					case "unit":
						jl.Str(d, &u.Unit)
					case "slice":
						jl.Str(d, &u.Slice)
					case "user":
						jl.Bool(d, &u.User)
					default:
						return false
					}
					return true
				})
			})
		default:
			return false
		}
		return true
	})
}

// decodeRecoveryFast reads recover.json, or declines.
func decodeRecoveryFast(data []byte) (*recovery, bool) {
	d := jl.NewDec(data)
	if !d.Object() {
		return nil, false
	}
	r := new(recovery)
	d.Obj(func(k string) bool {
		switch k {
		case "pid":
			jl.Int(d, &r.Pid)
		case "startTime":
			jl.Uint(d, &r.StartTime)
		case "cgroup":
			jl.Ptr(d, &r.Cgroup, decSaved)
		default:
			return false
		}
		return true
	})
	return r, d.Done()
}
