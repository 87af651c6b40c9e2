// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/machine.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "src/address.h"
#include "src/deadline.h"
#include "src/socket_io.h"
#include "src/syscalls.h"
#include "src/text.h"
#include "src/unique_fd.h"

namespace ssh_proxy {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kNoSuchMachine = "io.systemd.Machine.NoSuchMachine";
// How much of a hostile value a message shows (escaped).
constexpr size_t kShownBytes = 200;

// JsonText returns a JSON value as compact text (never throws: invalid UTF-8
// cannot come out of the parser, and would be replaced anyway).
std::string JsonText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// TypeName returns what `value` is, with its article: "an unsigned integer",
// "a negative integer", "a number" (with a fraction or an exponent, or too
// large for 64 bits), "a string", "a boolean", "an array", "an object", "null".
const char* TypeName(const Json& value) {
  if (value.is_number_unsigned()) return "an unsigned integer";
  if (value.is_number_integer()) return "a negative integer";
  if (value.is_number_float()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_null()) return "null";
  return "not a JSON value";
}

// The outcome of connecting to one scope's socket.
struct Connection {
  UniqueFd fd;     // Valid if connected.
  int absent = 0;  // Else the errno that says no machined listens there.
};

// ConnectMachined connects to `path`. A missing socket or directory, or one
// nobody listens on, is not an error (absent is set); other failures are.
absl::StatusOr<Connection> ConnectMachined(const std::string& path,
                                           const Deadline& deadline,
                                           Syscalls& sys,
                                           absl::string_view what) {
  Connection c;
  c.fd = UniqueFd(
      &sys, sys.Socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!c.fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat(what, ": socket(AF_UNIX)"));
  }
  struct sockaddr_un addr;
  // Both paths are far below sun_path's 108 bytes (a uid has 10 digits).
  const socklen_t len = FillSunPath(&addr, path);
  int failed = 0;
  absl::Status connected = ConnectSocket(
      sys, c.fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len, deadline,
      absl::StrCat(what, ": connect to ", path), &failed);
  if (connected.ok()) return c;
  if (failed == ENOENT || failed == ENOTDIR || failed == ECONNREFUSED) {
    c.fd.reset();
    c.absent = failed;
    return c;
  }
  return connected;
}

// Scope text for messages: "systemd-machined (user scope)".
std::string Machined(MachineScope scope) {
  return absl::StrCat("systemd-machined (", MachineScopeName(scope), " scope)");
}

// The parameters a reply may carry that we use; absent ones stay null.
struct Fields {
  const Json* name = nullptr;
  const Json* vsock_cid = nullptr;
  const Json* ssh_address = nullptr;
  const Json* klass = nullptr;
  const Json* service = nullptr;
};

// Field returns the member `key` of `object`, or nullptr if it is absent or
// null (varlink's two spellings of "not set").
const Json* Field(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// Exists returns whether `path` can be opened with O_PATH (stage 1 allows
// it) and `flags`, and logs what it found as "WHAT PATH exists" or its errno.
bool Exists(Syscalls& sys, const RunContext& context, const char* what,
            const char* path, int flags) {
  UniqueFd fd(&sys, sys.Open(path, O_PATH | O_CLOEXEC | flags));
  const int err = fd.valid() ? 0 : errno;
  context.Log(absl::StrCat(what, " ", path,
                           fd.valid() ? std::string(" exists")
                                      : absl::StrCat(": ", ErrnoText(err))));
  return fd.valid();
}

// MachinedTooOld tells a machined without varlink (systemd < 256) from one
// not running: its state directory exists and nothing of systemd >= 256 does
// (machine.h says why both).
bool MachinedTooOld(Syscalls& sys, const RunContext& context) {
  return Exists(sys, context, "machined's state directory", kMachinedStateDir,
                O_DIRECTORY) &&
         !Exists(sys, context, "systemd >= 256's", kSystemd256Marker, 0);
}

}  // namespace

absl::string_view MachineScopeName(MachineScope scope) {
  return scope == MachineScope::kUser ? "user" : "system";
}

std::string MachinedSocketPath(MachineScope scope, uint32_t uid) {
  if (scope == MachineScope::kUser) {
    return absl::StrCat("/run/user/", uid,
                        "/systemd/machine/io.systemd.Machine");
  }
  return "/run/systemd/machine/io.systemd.Machine";
}

std::string MachinedRequest(absl::string_view name) {
  // NAME is [A-Za-z0-9.-] (address.h): nothing to escape in a JSON string.
  std::string request = absl::StrCat(
      R"({"method":"io.systemd.Machine.List","parameters":{"name":")", name,
      R"("}})");
  request.push_back('\0');
  return request;
}

MachinedReplyReader::State MachinedReplyReader::Feed(absl::string_view chunk) {
  if (state_ != State::kNeedMore) return state_;
  const size_t nul = chunk.find('\0');
  const absl::string_view body =
      nul == absl::string_view::npos ? chunk : chunk.substr(0, nul);
  const size_t room = kMaxMachinedReply - 1 - message_.size();
  if (body.size() > room) {
    message_.append(body.data(), room);
    state_ = State::kTooLong;
    return state_;
  }
  message_.append(body.data(), body.size());
  // Full without a NUL: Room() is then 1, for the NUL alone.
  if (nul != absl::string_view::npos) state_ = State::kComplete;
  return state_;
}

size_t MachinedReplyReader::Room() const {
  if (state_ != State::kNeedMore) return 0;
  return kMaxMachinedReply - message_.size();  // The rest and the NUL.
}

namespace {

// Protocol returns the 76 error for a reply that breaks protocol.
absl::Status Protocol(absl::string_view what, absl::string_view from,
                      absl::string_view problem) {
  return absl::DataLossError(
      absl::StrCat(what, "protocol error from ", from, ": ", problem));
}

// ReplyParameters checks the envelope of a reply: valid JSON, an object, and
// either "error" (NoSuchMachine -> NotFound, another -> Unavailable) or an
// object "parameters", which it returns.
absl::StatusOr<const Json*> ReplyParameters(const Json& reply,
                                            absl::string_view message,
                                            const Target& machine,
                                            absl::string_view what,
                                            absl::string_view from) {
  if (reply.is_discarded()) {
    return Protocol(what, from,
                    absl::StrCat("the reply is not valid JSON: ",
                                 Quoted(message, kShownBytes)));
  }
  if (!reply.is_object()) {
    return Protocol(
        what, from,
        absl::StrCat("the reply is ", TypeName(reply), ", not an object: ",
                     Quoted(JsonText(reply), kShownBytes)));
  }
  if (const Json* error = Field(reply, "error")) {
    if (!error->is_string()) {
      return Protocol(
          what, from,
          absl::StrCat("\"error\" is ", TypeName(*error), ", not a string: ",
                       Quoted(JsonText(*error), kShownBytes)));
    }
    const std::string& name = error->get_ref<const std::string&>();
    if (name == kNoSuchMachine) {
      return absl::NotFoundError(absl::StrCat(what, "no machine named ",
                                              machine.name, " (", from, ")"));
    }
    return absl::UnavailableError(absl::StrCat(
        what, from, " answered with error ", Quoted(name, kShownBytes)));
  }
  const Json* parameters = Field(reply, "parameters");
  if (parameters == nullptr) {
    return Protocol(what, from,
                    absl::StrCat("the reply has neither \"error\" nor "
                                 "\"parameters\": ",
                                 Quoted(message, kShownBytes)));
  }
  if (!parameters->is_object()) {
    return Protocol(what, from,
                    absl::StrCat("\"parameters\" is ", TypeName(*parameters),
                                 ", not an object: ",
                                 Quoted(JsonText(*parameters), kShownBytes)));
  }
  return parameters;
}

// ReadFields takes the fields we use from `parameters`, strict about their
// types whatever the branch (the others, leader, timestamp, unit, ..., are
// ignored whatever their type), and checks that the reply is about `machine`.
absl::StatusOr<Fields> ReadFields(const Json& parameters, const Target& machine,
                                  absl::string_view what,
                                  absl::string_view from) {
  Fields f;
  f.name = Field(parameters, "name");
  f.vsock_cid = Field(parameters, "vSockCid");
  f.ssh_address = Field(parameters, "sshAddress");
  f.klass = Field(parameters, "class");
  f.service = Field(parameters, "service");
  struct StringField {
    const char* key;
    const Json* value;
  };
  for (const StringField& s :
       {StringField{"name", f.name}, StringField{"sshAddress", f.ssh_address},
        StringField{"class", f.klass}, StringField{"service", f.service}}) {
    if (s.value != nullptr && !s.value->is_string()) {
      return Protocol(what, from,
                      absl::StrCat("\"", s.key, "\" is ", TypeName(*s.value),
                                   ", not a string: ",
                                   Quoted(JsonText(*s.value), kShownBytes)));
    }
  }
  if (f.name == nullptr)
    return Protocol(what, from, "the reply has no \"name\"");
  const std::string& name = f.name->get_ref<const std::string&>();
  if (name != machine.name) {
    return Protocol(
        what, from,
        absl::StrCat("the reply is about machine ", Quoted(name, kShownBytes),
                     ", not ", machine.name));
  }
  return f;
}

// TargetFromCid: vsock/CID with the machine's PORT.
absl::StatusOr<Target> TargetFromCid(const Json& cid_value,
                                     const Target& machine,
                                     absl::string_view what,
                                     absl::string_view from) {
  if (!cid_value.is_number_unsigned()) {
    return Protocol(what, from,
                    absl::StrCat("\"vSockCid\" is ", TypeName(cid_value),
                                 ", not an unsigned integer: ",
                                 Quoted(JsonText(cid_value), kShownBytes)));
  }
  const uint64_t cid = cid_value.get<uint64_t>();
  if (cid >= kVsockCidAny) {
    return Protocol(what, from,
                    absl::StrCat("\"vSockCid\" ", cid,
                                 " is out of range (the highest CID is "
                                 "4294967294)"));
  }
  Target target;
  target.kind = TargetKind::kVsock;
  target.cid = static_cast<uint32_t>(cid);
  target.port = machine.port;
  return target;
}

// TargetFromSshAddress parses `address` with our own grammar as a HOST, minus
// the kinds that would make it recursive (machine/, .host), with the
// machine's PORT. The value is shown (cut) once, then the rule it broke (cut
// too: a suggestion repeats the value).
absl::StatusOr<Target> TargetFromSshAddress(const std::string& address,
                                            const Target& machine,
                                            absl::string_view what,
                                            absl::string_view from) {
  constexpr TargetKind kDirect[] = {TargetKind::kUnix, TargetKind::kVsock,
                                    TargetKind::kVsockMux};
  absl::StatusOr<Target> parsed =
      ParseHostOfKinds(address, machine.port, kDirect);
  if (parsed.ok()) return parsed;
  constexpr absl::string_view kRuleFollows =
      "is not an address ssh-proxy accepts: ";
  const absl::string_view why = parsed.status().message();
  const size_t cut = absl::StartsWith(why, kRuleFollows)
                         ? kRuleFollows.size() + kShownBytes
                         : why.size();
  return Protocol(
      what, from,
      absl::StrCat("\"sshAddress\" ", Quoted(address, kShownBytes), " ",
                   why.substr(0, cut), why.size() > cut ? "..." : ""));
}

// NspawnTarget: the container's exported sshd socket,
// runtime_directory_generic(scope, "systemd/nspawn/unix-export") + NAME +
// "ssh", as systemd's ssh-proxy.c builds it.
Target NspawnTarget(const Target& machine, MachineScope scope, uint32_t uid) {
  Target target;
  target.kind = TargetKind::kUnix;
  target.port = machine.port;
  const std::string runtime = scope == MachineScope::kUser
                                  ? absl::StrCat("/run/user/", uid)
                                  : std::string("/run");
  target.path = absl::StrCat(runtime, "/systemd/nspawn/unix-export/",
                             machine.name, "/ssh");
  return target;
}

// NspawnPath262: where newer systemd (262 measured, Debian sid) exports
// the container's sshd socket instead: runtime/systemd/nspawn/NAME/
// unix-export/ssh, as its ssh-proxy.c then builds it.
std::string NspawnPath262(const Target& machine, MachineScope scope,
                          uint32_t uid) {
  const std::string runtime = scope == MachineScope::kUser
                                  ? absl::StrCat("/run/user/", uid)
                                  : std::string("/run");
  return absl::StrCat(runtime, "/systemd/nspawn/", machine.name,
                      "/unix-export/ssh");
}

// ParseReply is ParseMachinedReply, which also says (in *nspawn) whether the
// target came from the systemd-nspawn branch.
absl::StatusOr<Target> ParseReply(absl::string_view message,
                                  const Target& machine, MachineScope scope,
                                  uint32_t uid, bool* nspawn_out);

}  // namespace

absl::StatusOr<Target> ParseMachinedReply(absl::string_view message,
                                          const Target& machine,
                                          MachineScope scope, uint32_t uid) {
  bool nspawn = false;
  return ParseReply(message, machine, scope, uid, &nspawn);
}

namespace {

absl::StatusOr<Target> ParseReply(absl::string_view message,
                                  const Target& machine, MachineScope scope,
                                  uint32_t uid, bool* nspawn_out) {
  const std::string what =
      absl::StrCat("cannot resolve machine/", machine.name, ": ");
  const std::string from = Machined(scope);
  const Json reply = Json::parse(message.begin(), message.end(), nullptr,
                                 /*allow_exceptions=*/false);
  absl::StatusOr<const Json*> parameters =
      ReplyParameters(reply, message, machine, what, from);
  if (!parameters.ok()) return parameters.status();
  absl::StatusOr<Fields> f = ReadFields(**parameters, machine, what, from);
  if (!f.ok()) return f.status();
  if (f->vsock_cid != nullptr) {
    return TargetFromCid(*f->vsock_cid, machine, what, from);
  }
  if (f->ssh_address != nullptr) {
    return TargetFromSshAddress(f->ssh_address->get_ref<const std::string&>(),
                                machine, what, from);
  }
  const bool nspawn =
      f->klass != nullptr && f->service != nullptr &&
      f->klass->get_ref<const std::string&>() == "container" &&
      f->service->get_ref<const std::string&>() == "systemd-nspawn";
  *nspawn_out = nspawn;
  if (nspawn) return NspawnTarget(machine, scope, uid);
  return absl::UnavailableError(absl::StrCat(
      what, "machine ", machine.name, " has no SSH address (", from,
      " gives no vSockCid, no sshAddress, and it is not a systemd-nspawn "
      "container; class ",
      f->klass != nullptr
          ? Quoted(f->klass->get_ref<const std::string&>(), kShownBytes)
          : "not given",
      ")"));
}

}  // namespace

absl::StatusOr<std::string> ReadMachinedReply(int fd, const RunContext& context,
                                              Syscalls& sys,
                                              absl::string_view what) {
  const Deadline deadline = context.Budget(sys);
  MachinedReplyReader reader;
  char buf[4096];
  for (;;) {
    const size_t want = std::min(sizeof(buf), reader.Room());
    const ssize_t n = sys.Recv(fd, buf, want, MSG_DONTWAIT);
    if (n > 0) {
      switch (reader.Feed(absl::string_view(buf, static_cast<size_t>(n)))) {
        case MachinedReplyReader::State::kComplete:
          return reader.message();
        case MachinedReplyReader::State::kTooLong:
          return absl::DataLossError(absl::StrCat(
              what,
              ": protocol error from systemd-machined: the reply is "
              "longer than ",
              kMaxMachinedReply,
              " bytes: ", Quoted(reader.message(), kShownBytes)));
        case MachinedReplyReader::State::kNeedMore:
          break;
      }
      continue;
    }
    const int err = n == 0 ? 0 : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      absl::Status ready =
          WaitFor(sys, fd, POLLIN, deadline,
                  absl::StrCat(what, ": waiting for the reply"));
      if (!ready.ok()) return ready;
      continue;
    }
    if (err == 0 || err == ECONNRESET) {
      if (reader.message().empty()) {
        return absl::UnavailableError(absl::StrCat(
            what, ": systemd-machined closed the connection without a reply"));
      }
      return absl::DataLossError(
          absl::StrCat(what,
                       ": protocol error from systemd-machined: the connection "
                       "closed in the middle of the reply ",
                       Quoted(reader.message(), kShownBytes)));
    }
    return ErrnoStatus(err, absl::StrCat(what, ": recv"));
  }
}

absl::StatusOr<Target> ResolveMachine(const Target& machine, uint32_t uid,
                                      const RunContext& context,
                                      Syscalls& sys) {
  const std::string what =
      absl::StrCat("cannot resolve machine/", machine.name);
  if (machine.kind != TargetKind::kMachine) {
    return absl::InternalError(absl::StrCat(what, ": not a machine/ target"));
  }
  // One budget for both scopes: fixed now if the caller did not start it.
  RunContext budget = context;
  if (budget.start_ms < 0) budget.start_ms = sys.NowMs();
  const Deadline deadline = budget.Budget(sys);
  const std::string request = MachinedRequest(machine.name);
  std::string absent_text;  // Why each scope has no machined, for the message.
  std::string no_such;      // The scopes that answered NoSuchMachine.
  int system_absent = 0;    // The system scope's errno when it has none.
  for (const MachineScope scope :
       {MachineScope::kUser, MachineScope::kSystem}) {
    const std::string path = MachinedSocketPath(scope, uid);
    const std::string from = Machined(scope);
    context.Log(absl::StrCat("asking ", from, " at ", path, " about machine ",
                             machine.name));
    absl::StatusOr<Connection> c = ConnectMachined(path, deadline, sys, what);
    if (!c.ok()) return c.status();
    if (!c->fd.valid()) {
      context.Log(absl::StrCat(from, " is not running: ", path, ": ",
                               ErrnoText(c->absent)));
      absl::StrAppend(&absent_text, absent_text.empty() ? "" : "; ",
                      MachineScopeName(scope), " scope: ", path, ": ",
                      ErrnoText(c->absent));
      if (scope == MachineScope::kSystem) system_absent = c->absent;
      continue;
    }
    absl::Status sent =
        SendAll(sys, c->fd.get(), request, deadline, what, "systemd-machined");
    if (!sent.ok()) return sent;
    // Connected and asked: from here on the bytes are machined's.
    absl::StatusOr<std::string> reply =
        ReadMachinedReply(c->fd.get(), budget, sys, what);
    if (!reply.ok()) return reply.status();
    c->fd.reset();
    context.Log(absl::StrCat(from, " replied: ", Quoted(*reply, kShownBytes)));
    bool nspawn = false;
    absl::StatusOr<Target> target =
        ParseReply(*reply, machine, scope, uid, &nspawn);
    if (target.ok() && nspawn) {
      // Two layouts of the export directory: systemd 257's (NspawnTarget)
      // and newer systemd's (262 measured). Whichever exists now; 257's when
      // neither does, so that the connect error names it.
      const std::string newer = NspawnPath262(machine, scope, uid);
      UniqueFd probe(&sys, sys.Open(newer.c_str(), O_PATH | O_CLOEXEC));
      context.Log(absl::StrCat("systemd-nspawn export socket ", newer,
                               probe.valid() ? " exists" : " is absent"));
      if (probe.valid()) target->path = newer;
    }
    if (target.ok()) {
      context.Log(absl::StrCat("machine/", machine.name, " is ",
                               DescribeTarget(*target), " (from ", from, ")"));
      return target;
    }
    if (target.status().code() != absl::StatusCode::kNotFound) {
      return target.status();
    }
    context.Log(absl::StrCat(from, " has no machine ", machine.name));
    absl::StrAppend(&no_such, no_such.empty() ? "" : " and ",
                    MachineScopeName(scope));
  }
  if (no_such.empty()) {
    if (system_absent == ENOENT && MachinedTooOld(sys, context)) {
      return absl::UnavailableError(absl::StrCat(
          what, ": systemd-machined has no varlink interface here (",
          kMachinedStateDir, " exists, ",
          MachinedSocketPath(MachineScope::kSystem, uid),
          " does not): this systemd is older than 256; machine/ needs "
          "systemd 256 or later (use vsock/CID or unix/PATH instead)"));
    }
    return absl::UnavailableError(absl::StrCat(
        what, ": systemd-machined is not running (", absent_text, ")"));
  }
  return absl::NotFoundError(absl::StrCat(
      what, ": no machine named ", machine.name,
      " (asked systemd-machined in the ", no_such, " scope",
      no_such.find(' ') != std::string::npos ? "s" : "",
      absent_text.empty() ? "" : absl::StrCat("; not running: ", absent_text),
      ")"));
}

}  // namespace ssh_proxy
