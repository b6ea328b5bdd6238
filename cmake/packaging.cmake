# packaging.cmake - `make deb`: a Debian package of the smtpsleuth command
# made by CPack (included from CMakeLists.txt).
#
# The package holds the binary (stripped), the man page (gzipped, as Debian
# wants), the bash completion (generated from the command's --help output at
# build time: cmake/gen-completion.sh) and the README. Depends is computed
# by dpkg-shlibdeps from the libraries the binary links (libc6, libpcap0.8,
# libndpi4.2, libssl3 on Debian 12), so it follows the build. The doc
# directory also gets the copyright file (DEP-5) and changelog.Debian.gz,
# written at packaging time by cmake/deb-docs.sh: the project's owners have
# not chosen a licence yet, and the copyright file says so (no licence
# granted, all rights reserved) until a LICENSE file is added to the source
# tree, whose text it then carries. The version has a Debian revision
# (0.1.0-1), as a package of an upstream release does, so the changelog is
# changelog.Debian.gz.
#
#   make deb                      -> build/smtpsleuth_VERSION_ARCH.deb
#   cmake --build build --target package   (the same, by hand)

if(NOT TARGET smtpsleuth)
  return()
endif()

set(SLEUTH_DEB_MAINTAINER "smtpsleuth maintainers <maintainers@smtpsleuth.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# Hardening Debian expects of a packaged binary (lintian: hardening-no-bindnow,
# hardening-no-fortify-functions): full RELRO with immediate binding, and
# fortified libc calls in optimised builds (_FORTIFY_SOURCE needs -O).
# Applied to every C target of the project, whatever the library layout.
target_link_options(smtpsleuth PRIVATE LINKER:-z,relro,-z,now)
get_property(_sleuth_targets DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
foreach(_t ${_sleuth_targets})
  get_target_property(_type ${_t} TYPE)
  if(_type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
    target_compile_definitions(${_t} PRIVATE $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:_FORTIFY_SOURCE=2>)
  endif()
endforeach()

# Bash completion, from the options the built command prints.
set(SLEUTH_COMPLETION ${PROJECT_BINARY_DIR}/smtpsleuth.bash-completion)
add_custom_command(
  OUTPUT ${SLEUTH_COMPLETION}
  COMMAND bash ${PROJECT_SOURCE_DIR}/cmake/gen-completion.sh $<TARGET_FILE:smtpsleuth> ${SLEUTH_COMPLETION}
  DEPENDS smtpsleuth ${PROJECT_SOURCE_DIR}/cmake/gen-completion.sh
  COMMENT "Generating the bash completion from smtpsleuth --help"
  VERBATIM)
add_custom_target(completion ALL DEPENDS ${SLEUTH_COMPLETION})
install(FILES ${SLEUTH_COMPLETION} DESTINATION share/bash-completion/completions RENAME smtpsleuth)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/smtpsleuth)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smtpsleuth)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SLEUTH_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tells from packets why each SMTP connection ended")
set(CPACK_PACKAGE_DESCRIPTION
"smtpsleuth reads SMTP traffic from capture files or a live interface,
rebuilds both TCP byte streams of every connection, follows the SMTP
dialog and gives each session a verdict (size limit, authentication
failed, IP filtered, idle timeout, TLS failure, ...) with the frames that
prove it. Output as text, JSON Lines (native or Elastic Common Schema)
with the Community ID of each flow. It also ships a small SMTP server
whose failure policies reproduce each verdict on demand.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_SLEUTH_SOURCE_DIR ${PROJECT_SOURCE_DIR})  # for deb-prebuild.cmake
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SLEUTH_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The man page goes in gzipped (lintian: uncompressed-manual-page): the
# install rule in CMakeLists.txt puts the plain file, this script, run by
# CPack on the staging tree before it builds the package, compresses it.
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb-prebuild.cmake)
include(CPack)
