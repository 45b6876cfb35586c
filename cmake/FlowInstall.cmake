# Installing flow: `cmake --install build [--prefix DIR]` puts
#   <prefix>/bin/flow
#   <prefix>/share/flow/sites/*.yaml           the built-in site catalogue
#   <prefix>/share/flow/sites/modules/*.yaml   module stacks per system (LAMEC)
#   <prefix>/share/doc/flow/                   README and docs
# and the binary finds its data from its own location (engine/core/data_dir.hpp), so the
# prefix can be chosen at install time. `cpack` (run in the build directory) makes a .deb of
# the same files under /usr whose dependencies are computed from the libraries flow links
# (dpkg-shlibdeps). docs/INSTALL.md.

install(TARGETS flow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sites/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/flow/sites
        FILES_MATCHING PATTERN "*.yaml" PATTERN "*.yml")
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME flow)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "workflow engine for HPC machine-learning pipelines (DAGs in YAML, SQLite state, Slurm over SSH)")
set(CPACK_PACKAGE_DESCRIPTION
    "flow runs DAGs of tasks described in YAML as local processes or as Slurm jobs reached\n\
over SSH, keeps every state change in SQLite so a killed engine resumes, and has a\n\
cron scheduler, hyperparameter sweeps, an artifact registry and a terminal UI.")
set(CPACK_PACKAGE_CONTACT "flow maintainers <flow@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # flow_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
# Runtime libraries as dpkg-shlibdeps finds them in the binary (libsqlite3-0, libssh-4,
# libyaml-0-2, libyaml-cpp0.7, ...), plus what flow reads without linking it: time zones for
# schedules.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3")  # what task scripts usually run
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client")
include(CPack)
