#pragma once
// File formats of artifacts and their media types (schema.org `encodingFormat`). A task
// names a format ("onnx") or a media type ("text/csv"), or says nothing and the file's
// extension decides.

#include <string>
#include <string_view>
#include <vector>

namespace flow::artifact {

// "onnx" for "model.onnx", "csv" for "a.CSV"; "" when the extension is not one flow knows.
std::string format_from_extension(std::string_view path);

// The media type for a format: "application/onnx" for "onnx"; a value that already is a
// media type (contains '/') is returned as is; unknown formats are
// "application/octet-stream".
std::string media_type_of(std::string_view format);

// The names a format goes by, lowercase, for `flow artifacts search --format`: itself, and
// its media type or the formats flow gives that media type ("onnx" -> onnx,
// application/onnx; "application/x-pytorch" -> application/x-pytorch, pt, pth). A format
// flow does not know is only itself.
std::vector<std::string> format_names(std::string_view format);

// True for ONNX models (format "onnx" or media type "application/onnx"): the formats
// `flow artifacts verify` also checks with the ONNX checker.
bool is_onnx(std::string_view format);

}  // namespace flow::artifact
