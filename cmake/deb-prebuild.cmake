# deb-prebuild.cmake - run by CPack on its staging tree before the .deb is
# built (CPACK_PRE_BUILD_SCRIPTS): compresses the man pages with gzip -9n,
# as Debian policy asks (no timestamp, so the package is reproducible),
# strips the binaries the way dh_strip does, and writes the copyright file
# and changelog.Debian.gz beside the README (cmake/deb-docs.sh).
file(GLOB_RECURSE _pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man1/*.1")
foreach(_page ${_pages})
  execute_process(COMMAND gzip -9nf "${_page}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_page} failed")
  endif()
endforeach()

# Strip what CPack's plain strip leaves (lintian: binary-has-unneeded-section),
# the sections dh_strip removes too.
file(GLOB _bins "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/bin/*")
foreach(_bin ${_bins})
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note --strip-unneeded "${_bin}"
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "strip ${_bin} failed")
  endif()
endforeach()

# /usr/share/doc/smtpsleuth/{copyright,changelog.Debian.gz} (lintian:
# no-copyright-file, no-changelog), next to the README the install put there.
file(GLOB_RECURSE _readme "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/doc/smtpsleuth/README.md")
if(NOT _readme)
  message(FATAL_ERROR "the staging tree has no share/doc/smtpsleuth/README.md")
endif()
list(GET _readme 0 _readme)
get_filename_component(_docdir "${_readme}" DIRECTORY)
execute_process(COMMAND sh "${CPACK_SLEUTH_SOURCE_DIR}/cmake/deb-docs.sh" "${CPACK_SLEUTH_SOURCE_DIR}"
                "${CPACK_PACKAGE_VERSION}" "${CPACK_DEBIAN_PACKAGE_RELEASE}" "${CPACK_DEBIAN_PACKAGE_MAINTAINER}"
                "${_docdir}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake/deb-docs.sh failed")
endif()
