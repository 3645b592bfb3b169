# The installable package: `cmake --install` puts the headers, the static
# libraries and lib/cmake/iocaf/{iocafConfig,iocafConfigVersion,iocafTargets}.cmake
# into the prefix. Consumers write find_package(iocaf) and link iocaf::iocaf
# (or iocaf::core, ::pipe, ::tcp, ::process, ::supervision); the Windows
# settings, -static, CAF and spdlog come with the targets (docs/package.md).
# Everything about installing lives here; the targets' CMakeLists know nothing of it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IOCAF_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/iocaf)
set(IOCAF_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/iocaf)
# spdlog and fmt (header-only) are installed next to iocaf's headers: the
# consumer compiles exactly the versions iocaf was built with, and the MinGW
# compiler still never sees the rest of the build machine's /usr/include.
set(IOCAF_INSTALL_THIRD_PARTY ${IOCAF_INSTALL_INCLUDEDIR}/third_party)

# iocaf::iocaf: every layer at once.
add_library(iocaf_all INTERFACE)
target_link_libraries(iocaf_all INTERFACE iocaf_pipe iocaf_tcp iocaf_process iocaf_supervision)
add_library(iocaf::iocaf ALIAS iocaf_all)

set(iocaf_exported iocaf_platform iocaf_logging iocaf_warnings iocaf_proto iocaf_io iocaf_core iocaf_stream
    iocaf_pipe iocaf_tcp iocaf_process iocaf_supervision iocaf_all)
foreach(target ${iocaf_exported})
  string(REGEX REPLACE "^iocaf_" "" name ${target})
  if(name STREQUAL "all")
    set(name iocaf)
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
endforeach()

# Paths in the build and source trees stay in the build; the installed
# targets name the prefix instead. (iocaf_warnings is exported only because
# the static libraries name it as a link-only dependency; it adds nothing.)
foreach(target iocaf_io iocaf_core iocaf_proto)
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<INSTALL_INTERFACE:${IOCAF_INSTALL_INCLUDEDIR}>)
endforeach()
set_property(TARGET iocaf_logging PROPERTY INTERFACE_INCLUDE_DIRECTORIES
  $<BUILD_INTERFACE:${IOCAF_STAGING_INCLUDE}> $<INSTALL_INTERFACE:${IOCAF_INSTALL_THIRD_PARTY}>)
# (An imported target's include directories are system ones anyway.)
set_property(TARGET iocaf_logging PROPERTY INTERFACE_SYSTEM_INCLUDE_DIRECTORIES
  $<BUILD_INTERFACE:${IOCAF_STAGING_INCLUDE}>)

install(TARGETS ${iocaf_exported} EXPORT iocafTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT iocafTargets NAMESPACE iocaf:: DESTINATION ${IOCAF_INSTALL_CMAKEDIR})

# Headers keep their paths: #include "actors/pipe/pipe_listener.hpp".
foreach(dir io actors proto)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${IOCAF_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.hpp" PATTERN "fuzz" EXCLUDE)
endforeach()
foreach(dir spdlog fmt)
  install(DIRECTORY /usr/include/${dir} DESTINATION ${IOCAF_INSTALL_THIRD_PARTY})
endforeach()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/iocafConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/iocafConfig.cmake INSTALL_DESTINATION ${IOCAF_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/iocafConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/iocafConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/iocafConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/mingw-w64.cmake DESTINATION ${IOCAF_INSTALL_CMAKEDIR})
