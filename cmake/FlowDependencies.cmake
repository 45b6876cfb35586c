# All dependencies come from Debian packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system graph)
# YAML: libyaml's event parser reads the text (engine/core/yaml_reader.cpp: 5x faster than
# yaml-cpp's scanner on a large DAG); yaml-cpp's conversions type the scalars.
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(date REQUIRED)
find_package(OpenSSL REQUIRED)
# Webhooks of `notify:` (operators/notify, docs/ALERTS.md).
find_package(CURL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBSSH REQUIRED IMPORTED_TARGET libssh)
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
set(CURSES_NEED_NCURSES TRUE)
set(CURSES_NEED_WIDE TRUE)  # ncursesw: UTF-8 text in the TUI
find_package(Curses REQUIRED)
# ONNX models are checked with the ONNX protobuf library (operators/onnx); its CMake
# package refers to protobuf::libprotobuf, so Protobuf comes first.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
