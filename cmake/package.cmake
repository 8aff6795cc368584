# The Debian package: cmake --build build --target package
#   -> build/shoal_VERSION_amd64.deb (docs/debian.md)
# The programs go to /usr/bin, the systemd units to /usr/lib/systemd/system
# (their ExecStart rewritten from /usr/local/bin to the install prefix),
# the example settings to /etc/shoal as conffiles, the docs to
# /usr/share/doc/shoal; deploy/debian/ holds the maintainer scripts (the
# shoal system user, the state directory, purge).
include(GNUInstallDirs)

set(SHOAL_UNITS shoal-broker.service shoal-worker@.service)
# at install time, so the units name the prefix the package installs to
install(CODE "
    foreach(unit ${SHOAL_UNITS})
        file(READ \"${CMAKE_SOURCE_DIR}/deploy/\${unit}\" text)
        string(REPLACE \"/usr/local/bin/\" \"\${CMAKE_INSTALL_PREFIX}/bin/\" text \"\${text}\")
        file(WRITE \"${CMAKE_BINARY_DIR}/units/\${unit}\" \"\${text}\")
    endforeach()")
foreach(unit ${SHOAL_UNITS})
    install(FILES ${CMAKE_BINARY_DIR}/units/${unit} DESTINATION lib/systemd/system)
endforeach()
# /etc whatever the prefix: the units read /etc/shoal/*.env
install(FILES ${CMAKE_SOURCE_DIR}/deploy/broker.env.example DESTINATION /etc/shoal
        RENAME broker.env PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/worker.env.example DESTINATION /etc/shoal
        RENAME worker.env PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
file(GLOB SHOAL_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${SHOAL_DOCS} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/shoal)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shoal)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "shoal maintainers <shoal@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed task bus: jobs in PostgreSQL, tasks out to workers")
set(CPACK_PACKAGE_DESCRIPTION "shoal runs millions of small tasks (HTTP fetches, commands) over workers
on many machines, with every job, task and result in PostgreSQL: shoal-broker,
shoal-worker, the shoal CLI, the shoal-monitor terminal view and the
shoal-gateway HTTP API, with systemd units.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/shoal/shoal")
# the libraries' packages, from the binaries (dpkg-shlibdeps, in dpkg-dev);
# adduser for the maintainer scripts
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_SOURCE_DIR}/deploy/debian/postrm
    ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# stripped programs; the debug symbols stay in the build tree
set(CPACK_STRIP_FILES TRUE)
include(CPack)
