// Host keys without a server: fingerprints as ssh-keygen prints them, the known_hosts line
// shape, removing a host's entries, and what a refusal says.
#include "operators/ssh/host_key.hpp"

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

namespace flow::ssh {
namespace {

// Generated with ssh-keygen; fingerprints from `ssh-keygen -lf`.
const char* kEd25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIIIe1FoMpY6+0QyoInmBPI2YocUX2KFXIKpvCcIH6Zud";
const char* kEd25519Fingerprint = "SHA256:MWgyQthd7cmgXZbVw/ZgTkuXvGgszAqeRlUJMEf8HI0";
const char* kEcdsa =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJegX78EmSV2pzICOFNtnJuG9bLFnMugVumvg4mI"
    "lmZHFi/cf4SldvPSViQysuglx9PtnymWjYbiZetD4A4WePU=";
const char* kEcdsaFingerprint = "SHA256:d0E50hEJ4ctJCFbGhzhQUcMgQkyjodrJqli6dQgdIcQ";
// `ssh-keygen -H` of "[127.0.0.1]:2222 ssh-ed25519 <kEd25519>".
const char* kHashedLine =
    "|1|lHOiDLf7lwJi84rvwkFd4xY9S0A=|VuDUQUFl5etEQlHg3W8EZ8GUI7I= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIIIe1FoMpY6+0QyoInmBPI2YocUX2KFXIKpvCcIH6Zud";

site::Site test_site() {
  site::Site s;
  s.name = "hpc";
  s.transport = site::Transport::kSsh;
  s.host = "127.0.0.1";
  s.port = 2222;
  s.user = "flowuser";
  s.known_hosts = "/nonexistent/dir/known_hosts";
  return s;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(HostKey, FingerprintIsSha256AsSshKeygenPrintsIt) {
  auto ed = HostKey::from_base64("ssh-ed25519", kEd25519);
  EXPECT_EQ(ed.type, "ssh-ed25519");
  EXPECT_EQ(ed.base64, kEd25519);
  EXPECT_EQ(ed.fingerprint, kEd25519Fingerprint);
  auto ec = HostKey::from_base64("ecdsa-sha2-nistp256", kEcdsa);
  EXPECT_EQ(ec.type, "ecdsa-sha2-nistp256");
  EXPECT_EQ(ec.fingerprint, kEcdsaFingerprint);
}

TEST(HostKey, GarbageIsNotAKey) {
  EXPECT_THROW(HostKey::from_base64("ssh-ed25519", "not-base64!"), InputError);
  EXPECT_THROW(HostKey::from_base64("no-such-type", kEd25519), InputError);
}

TEST(HostKey, KnownHostsNameUsesBracketsOnlyForOtherPorts) {
  EXPECT_EQ(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
  EXPECT_EQ(known_hosts_name("Login.Example.ORG", 22), "login.example.org");
  EXPECT_EQ(known_hosts_name("::1", 2222), "[::1]:2222");
}

TEST(HostKey, KnownHostsLineIsNameTypeAndKey) {
  auto key = HostKey::from_base64("ssh-ed25519", kEd25519);
  EXPECT_EQ(known_hosts_line("127.0.0.1", 2222, key),
            std::string("[127.0.0.1]:2222 ssh-ed25519 ") + kEd25519);
  EXPECT_EQ(known_hosts_line("jureca.fz-juelich.de", 22, key),
            std::string("jureca.fz-juelich.de ssh-ed25519 ") + kEd25519);
}

TEST(HostKey, RemovesPlainAndHashedEntriesOfTheHostOnly) {
  std::string text = std::string("# my hosts\n") +                        //
                     "[127.0.0.1]:2222 ssh-ed25519 " + kEd25519 + "\n" +  //
                     "127.0.0.1 ssh-ed25519 " + kEd25519 + "\n" +         // port 22: other host
                     kHashedLine + "\n" +                                 //
                     "other,[127.0.0.1]:2222 ecdsa-sha2-nistp256 " + kEcdsa + "\n" +
                     "* ssh-ed25519 " + kEd25519 + "\n" +         // wildcard: covers others too
                     "\n" +                                       //
                     "[127.0.0.1]:2223 ssh-ed25519 " + kEd25519;  // no final newline
  int removed = -1;
  std::string out = remove_known_hosts_entries(text, "127.0.0.1", 2222, &removed);
  EXPECT_EQ(removed, 3);
  EXPECT_EQ(out, std::string("# my hosts\n") + "127.0.0.1 ssh-ed25519 " + kEd25519 + "\n" +
                     "* ssh-ed25519 " + kEd25519 + "\n" + "\n" + "[127.0.0.1]:2223 ssh-ed25519 " +
                     kEd25519);
  EXPECT_EQ(remove_known_hosts_entries("", "127.0.0.1", 2222, &removed), "");
  EXPECT_EQ(removed, 0);
}

TEST(HostKey, KnownHostsFileDefaultsToTheUsersFile) {
  site::Site s = test_site();
  EXPECT_EQ(known_hosts_file(s), "/nonexistent/dir/known_hosts");
  s.known_hosts.clear();
  EXPECT_EQ(known_hosts_file(s).filename(), "known_hosts");
  EXPECT_EQ(known_hosts_file(s).parent_path().filename(), ".ssh");
}

TEST(HostKey, UnknownKeyMessageNamesSiteHostFingerprintAndTheTrustCommand) {
  auto key = HostKey::from_base64("ssh-ed25519", kEd25519);
  std::string m = host_key_refusal(test_site(), HostKeyVerdict::kUnknown, key);
  EXPECT_TRUE(contains(m, "site 'hpc'")) << m;
  EXPECT_TRUE(contains(m, "127.0.0.1:2222")) << m;
  EXPECT_TRUE(contains(m, "unknown")) << m;
  EXPECT_TRUE(contains(m, "/nonexistent/dir/known_hosts does not exist")) << m;
  EXPECT_TRUE(contains(m, std::string("ssh-ed25519 key ") + kEd25519Fingerprint)) << m;
  EXPECT_TRUE(contains(m, "flow sites trust hpc")) << m;
  EXPECT_FALSE(contains(m, kEd25519)) << "the key blob itself is not for messages";
}

TEST(HostKey, ChangedKeyMessageWarnsAndSaysHowToReplace) {
  auto key = HostKey::from_base64("ssh-ed25519", kEd25519);
  std::string m = host_key_refusal(test_site(), HostKeyVerdict::kChanged, key);
  EXPECT_TRUE(contains(m, "CHANGED")) << m;
  EXPECT_TRUE(contains(m, "man-in-the-middle")) << m;
  EXPECT_TRUE(contains(m, kEd25519Fingerprint)) << m;
  EXPECT_TRUE(contains(m, "ssh-keygen -R '[127.0.0.1]:2222' -f /nonexistent/dir/known_hosts")) << m;
  EXPECT_TRUE(contains(m, "flow sites trust hpc --replace")) << m;
  std::string other = host_key_refusal(test_site(), HostKeyVerdict::kOtherType, key);
  EXPECT_TRUE(contains(other, "CHANGED")) << other;
  EXPECT_TRUE(contains(other, "another type")) << other;
}

TEST(HostKey, UnreadableFileMessageSaysSo) {
  auto key = HostKey::from_base64("ssh-ed25519", kEd25519);
  std::string m = host_key_refusal(test_site(), HostKeyVerdict::kError, key, "bad line 3");
  EXPECT_TRUE(contains(m, "cannot check its host key")) << m;
  EXPECT_TRUE(contains(m, "bad line 3")) << m;
}

TEST(HostKey, NamesForVerdictsAndActions) {
  EXPECT_EQ(to_string(HostKeyVerdict::kMatch), "match");
  EXPECT_EQ(to_string(HostKeyVerdict::kChanged), "CHANGED");
  EXPECT_EQ(to_string(TrustOutcome::Action::kAlreadyTrusted), "already_trusted");
  EXPECT_EQ(to_string(TrustOutcome::Action::kReplaced), "replaced");
}

TEST(HostKey, TrustRefusesSitesWithoutSsh) {
  site::Site s = test_site();
  s.transport = site::Transport::kLocal;
  EXPECT_THROW(trust(s, false), InputError);
}

}  // namespace
}  // namespace flow::ssh
