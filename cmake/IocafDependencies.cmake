# Dependencies: CAF (libcaf_core), spdlog/fmt header-only, GoogleTest from
# Debian's sources. Nothing is downloaded here; scripts/setup.sh installs it.

if(IOCAF_SANITIZE AND NOT IOCAF_WINDOWS)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# --- spdlog + fmt, header-only -------------------------------------------
# A staging include directory that links only spdlog/ and fmt/ so the MinGW
# compiler never sees the rest of /usr/include.
set(IOCAF_STAGING_INCLUDE ${CMAKE_BINARY_DIR}/staging-include)
file(MAKE_DIRECTORY ${IOCAF_STAGING_INCLUDE})
foreach(dir spdlog fmt)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} missing: run scripts/setup.sh")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${IOCAF_STAGING_INCLUDE}/${dir} SYMBOLIC)
endforeach()
add_library(iocaf_logging INTERFACE)
target_include_directories(iocaf_logging SYSTEM INTERFACE ${IOCAF_STAGING_INCLUDE})
target_compile_definitions(iocaf_logging INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)

# --- CAF ----------------------------------------------------------------
if(IOCAF_WINDOWS)
  set(IOCAF_CAF_VERSION 0.17.6)
  set(IOCAF_CAF_PREFIX "$ENV{IOCAF_CACHE}")
  if(NOT IOCAF_CAF_PREFIX)
    set(IOCAF_CAF_PREFIX /var/cache/iocaf)
  endif()
  set(IOCAF_CAF_PREFIX "${IOCAF_CAF_PREFIX}/caf-${IOCAF_CAF_VERSION}-mingw64-p1") # see scripts/setup.sh
  if(NOT EXISTS ${IOCAF_CAF_PREFIX}/lib/libcaf_core_static.a)
    message(FATAL_ERROR "CAF for MinGW not found in ${IOCAF_CAF_PREFIX}: run scripts/setup.sh")
  endif()
  add_library(caf_core STATIC IMPORTED GLOBAL)
  set_target_properties(caf_core PROPERTIES
    IMPORTED_LOCATION ${IOCAF_CAF_PREFIX}/lib/libcaf_core_static.a
    INTERFACE_INCLUDE_DIRECTORIES ${IOCAF_CAF_PREFIX}/include
    INTERFACE_LINK_LIBRARIES "ws2_32;iphlpapi;psapi")
  target_compile_options(caf_core INTERFACE -Wno-deprecated-declarations)
  # What every Windows target of iocaf needs, as usage requirements: one
  # self-contained exe per program (no MinGW runtime DLLs to ship; without
  # -static an exe exits 53 under Wine for want of libstdc++-6.dll) and the
  # Windows headers' settings. iocaf_io carries it to everything above it;
  # helper programs that use no iocaf library link it themselves.
  add_library(iocaf_platform INTERFACE)
  target_compile_definitions(iocaf_platform INTERFACE WIN32_LEAN_AND_MEAN NOMINMAX _WIN32_WINNT=0x0602)
  target_link_options(iocaf_platform INTERFACE -static)
else()
  find_library(CAF_CORE_LIB caf_core)
  if(CAF_CORE_LIB)
    add_library(caf_core UNKNOWN IMPORTED GLOBAL)
    set_target_properties(caf_core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIB})
  endif()
endif()

# --- GoogleTest -----------------------------------------------------------
if(NOT TARGET gtest)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
endif()

add_library(iocaf_warnings INTERFACE)
target_compile_options(iocaf_warnings INTERFACE -Wall -Wextra)
