#pragma once
// Internal to operators/ssh: unique_ptr owners for libssh handles, so that every early
// return and exception frees them. Not part of the public API (it includes libssh).

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <memory>
#include <string>

#include "operators/ssh/host_key.hpp"

namespace flow::ssh::detail {

struct KeyFree {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
struct ChannelFree {
  void operator()(ssh_channel c) const {
    if (ssh_channel_is_open(c)) ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
struct SftpFileClose {
  void operator()(sftp_file f) const { sftp_close(f); }
};
struct SftpAttributesFree {
  void operator()(sftp_attributes a) const { sftp_attributes_free(a); }
};
struct SshStringFree {
  void operator()(char* s) const { ssh_string_free_char(s); }
};

using KeyPtr = std::unique_ptr<ssh_key_struct, KeyFree>;
using ChannelPtr = std::unique_ptr<ssh_channel_struct, ChannelFree>;
using SftpFilePtr = std::unique_ptr<sftp_file_struct, SftpFileClose>;
using SftpAttributesPtr = std::unique_ptr<sftp_attributes_struct, SftpAttributesFree>;
using SshStringPtr = std::unique_ptr<char, SshStringFree>;

// A libssh-allocated C string as std::string ("" for null), freed.
inline std::string take_string(char* s) {
  SshStringPtr owner(s);
  return s ? std::string(s) : std::string();
}

// Type, base64 blob and SHA256 fingerprint of a public key (host_key.cpp).
HostKey host_key_of(ssh_key key);

}  // namespace flow::ssh::detail
