#pragma once
// Where an artifact a task declared is, and whether flow may register it. The engine reads
// the file on its own host, as the user it runs as.
//
// Rules (docs/ARTIFACTS.md):
//  - an absolute path is taken as is; a relative one from the task's working directory,
//    and it must stay inside that directory: `..` that climbs out is refused (a file
//    elsewhere is named by its absolute path, so what a relative path means never depends
//    on where the task happened to run);
//  - the path must name a regular file once symlinks are followed (not a directory, FIFO,
//    socket or device, which cannot be hashed or would block the engine);
//  - this user must be able to read it.

#include <filesystem>
#include <string>

namespace flow::artifact {

// The absolute, lexically normal path of `given`. `workdir` must be absolute. Throws
// RegistrationError with a message that says what is wrong with the path (it does not name
// the task; the caller adds that).
std::filesystem::path resolve_artifact_path(const std::string& given,
                                            const std::filesystem::path& workdir);

}  // namespace flow::artifact
