# cmake -DMQCHECK=path -DOUT=dir -DVERSION=x.y.z -P gen-docs.cmake
# Writes OUT/man1/mqcheck.1, OUT/man1/mqcheck-COMMAND.1 for every command
# `mqcheck --help` lists, and OUT/completion/mqcheck (bash), all from the
# program's own help text. A command whose --help breaks the CLI contract
# (stdout, exit 0) gets a warning here and fails the cli_contract test.
foreach(var MQCHECK OUT VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "gen-docs.cmake: -D${var}= is required")
  endif()
endforeach()

# roff: backslashes escaped, a leading . or ' neutralised, hyphens as \-.
function(roff_escape text outvar)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${outvar} "${text}" PARENT_SCOPE)
endfunction()

function(help_of outvar)
  execute_process(COMMAND ${MQCHECK} ${ARGN} --help RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR out STREQUAL "")
    message(WARNING "mqcheck ${ARGN} --help: exit ${rc}, nothing on stdout")
    set(out "${err}")
  endif()
  set(${outvar} "${out}" PARENT_SCOPE)
endfunction()

string(TIMESTAMP today "%Y-%m-%d" UTC)
file(MAKE_DIRECTORY ${OUT}/man1 ${OUT}/completion)

help_of(main)
string(REGEX MATCH "commands:\n(.*)\n\n" _ "${main}")
string(REGEX MATCHALL "\n?  ([a-z][a-z0-9-]*) +([^\n]*)" rows "\n${CMAKE_MATCH_1}")
set(commands "")
set(see_also "")
set(cmd_rows "")
foreach(row ${rows})
  string(REGEX MATCH "  ([a-z][a-z0-9-]*) +([^\n]*)" _ "${row}")
  set(name ${CMAKE_MATCH_1})
  set(summary ${CMAKE_MATCH_2})
  list(APPEND commands ${name})
  roff_escape("${summary}" esc_summary)
  string(APPEND cmd_rows ".TP\n.B ${name}\n${esc_summary}; see \\fBmqcheck\\-${name}\\fR(1).\n")
  string(APPEND see_also ".BR mqcheck\\-${name} (1),\n")
endforeach()
if(NOT commands)
  message(FATAL_ERROR "gen-docs.cmake: no commands in `mqcheck --help`:\n${main}")
endif()

file(WRITE ${OUT}/man1/mqcheck.1
".TH MQCHECK 1 \"${today}\" \"mqcheck ${VERSION}\" \"User Commands\"
.SH NAME
mqcheck \\- MQTT 3.1, 3.1.1 and 5.0 conformance and fuzz-testing harness
.SH SYNOPSIS
.B mqcheck
.I command
.RI [ options ]
.br
.B mqcheck \\-\\-help | \\-\\-version
.SH DESCRIPTION
A strict reference codec and a deterministic in-memory broker engine are the
oracle; YAML scenarios, each traced to the normative statements it checks, run
against that engine or any broker.
.SH COMMANDS
${cmd_rows}.SH EXIT STATUS
0 success; 1 a check failed or an input was invalid; 2 usage error (the message
names the argument at fault).
.SH FILES
.TP
.I /usr/share/mqcheck/suite
the scenario suite run by \\fBmqcheck run\\fR and \\fBmqcheck gate\\fR when no
path is given (found relative to the program, so any install prefix works)
.TP
.I /usr/share/mqcheck/spec
the statement catalog (MQTT 3.1.1 and 5.0)
.TP
.I /usr/share/mqcheck/schemas
JSON schemas of scenarios and reports
.TP
.I /usr/share/mqcheck/baselines
baselines and profiles of mosquitto and aedes
.SH SEE ALSO
${see_also}.BR pytest (1)
")

set(completion_cases "")
foreach(name ${commands})
  help_of(help ${name})
  roff_escape("${help}" esc_help)
  string(REGEX MATCH "^[^\n]*" first "${help}")
  string(REGEX REPLACE "^usage: " "" first "${first}")
  roff_escape("${first}" esc_first)
  list(FIND commands ${name} idx)
  list(GET rows ${idx} row)
  string(REGEX MATCH "  ([a-z][a-z0-9-]*) +([^\n]*)" _ "${row}")
  roff_escape("${CMAKE_MATCH_2}" esc_summary)
  file(WRITE ${OUT}/man1/mqcheck-${name}.1
".TH MQCHECK\\-${name} 1 \"${today}\" \"mqcheck ${VERSION}\" \"User Commands\"
.SH NAME
mqcheck\\-${name} \\- ${esc_summary}
.SH SYNOPSIS
${esc_first}
.SH OPTIONS
The text of \\fBmqcheck ${name} \\-\\-help\\fR:
.PP
.nf
${esc_help}.fi
.SH SEE ALSO
.BR mqcheck (1)
")
  # Brackets group list elements in CMake: drop them before splitting.
  string(REGEX REPLACE "[][;|]" " " flat "${help}")
  string(REGEX MATCHALL "(^|[ ,/(])--[a-z][a-z0-9-]*" opts "${flat}")
  set(words "")
  foreach(o ${opts})
    string(REGEX REPLACE "^[ ,/(]" "" o "${o}")
    list(APPEND words ${o})
  endforeach()
  list(REMOVE_DUPLICATES words)
  list(JOIN words " " words)
  string(APPEND completion_cases "    ${name}) opts=\"${words}\" ;;\n")
endforeach()

list(JOIN commands " " command_words)
file(WRITE ${OUT}/completion/mqcheck
"# bash completion for mqcheck ${VERSION}, generated from its --help.
_mqcheck() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} opts=\"\"
  if [ \"\$COMP_CWORD\" -eq 1 ]; then
    COMPREPLY=(\$(compgen -W \"${command_words} --help --version\" -- \"\$cur\"))
    return
  fi
  if [ \"\$cmd\" = bench ] && [ \"\$COMP_CWORD\" -eq 2 ]; then
    COMPREPLY=(\$(compgen -W \"\$(mqcheck bench --list 2>/dev/null | sed -n 's/^  \\([a-z0-9_-]*\\).*/\\1/p') --list\" -- \"\$cur\"))
    return
  fi
  case \"\$cmd\" in
${completion_cases}  esac
  if [[ \$cur == -* ]]; then
    COMPREPLY=(\$(compgen -W \"\$opts --help\" -- \"\$cur\"))
  else
    COMPREPLY=(\$(compgen -f -- \"\$cur\"))
  fi
}
complete -o filenames -F _mqcheck mqcheck
")
