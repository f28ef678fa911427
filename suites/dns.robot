*** Settings ***
Documentation     DNSRequest on the board (netservices.md 2.8, 5.3) against a scriptable
...               DNS server on the bench host.  Timeouts are board time: a test waiting
...               for the 7 s give-up lets the emulator skip idle time.
Library           hil.robot.NetBench
Suite Setup       Start Board
Test Setup        Start DNS Server
Test Tags         dns

*** Test Cases ***
Name Answered At Once Is Found
    Add DNS Record    board.test    192.0.2.77
    ${req}=    Open DNS Request On Board
    ${rc}=    Resolve On Board    ${req}    board.test
    Result Should Be    ${rc}    DNS_OK
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}    ${{[0, "192.0.2.77"]}}
    ${n}=    DNS Queries For    board.test
    Should Be Equal As Integers    ${n}    1

Host Form Writes The Address Into The Host
    Add DNS Record    host.test    192.0.2.78
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    host.test    host_form=${True}
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${r}=    Last DNS Reply
    Should Be Equal    ${r.host_ip}    192.0.2.78

Function Callback Form
    Add DNS Record    fn.test    192.0.2.79
    ${req}=    Open DNS Request On Board    callback=function
    Resolve On Board    ${req}    fn.test
    Wait For DNS Reply    ${req}
    ${r}=    Last DNS Reply
    Should Be Equal    ${r.mode.name}    FUNCTION

Several A Records Give The First
    Add DNS Record    multi.test    192.0.2.81    192.0.2.82    192.0.2.83
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    multi.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    192.0.2.81

CNAME Chain Is Followed
    Add DNS Record    real.test    192.0.2.90
    Add DNS Alias    middle.test    real.test
    Add DNS Alias    alias.test    middle.test
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    alias.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    192.0.2.90

NXDOMAIN Gives DNS_NOTFOUND
    Set DNS Behaviour    nowhere.test    nxdomain
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    nowhere.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_NOTFOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    0.0.0.0

SERVFAIL Gives DNS_NOTFOUND
    Set DNS Behaviour    broken.test    servfail
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    broken.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_NOTFOUND

Silent Server Gives DNS_NOTFOUND After Four Tries In Board Time
    [Documentation]    Sends at about 0, 1, 2 and 4 s and gives up at about 7 s of board
    ...    time; the emulator skips the idle time, so this takes far less wall time.
    Set DNS Behaviour    silent.test    silent
    ${req}=    Open DNS Request On Board
    ${t0}=    Board Time
    Resolve On Board    ${req}    silent.test
    ${reply}=    Wait For DNS Reply    ${req}    timeout=20    board_time=${True}
    Should Be Equal    ${reply}    DNS_NOTFOUND
    ${r}=    Last DNS Reply
    ${elapsed}=    Evaluate    (${r.ts_us} - ${t0}) / 1e6
    Should Be True    6.5 <= ${elapsed} <= 8.5    gave up after ${elapsed} s of board time
    ${n}=    DNS Queries For    silent.test
    Should Be Equal As Integers    ${n}    4

Delayed Answer Within The Retry Window Is Found
    Add DNS Record    slow.test    192.0.2.91
    Set DNS Behaviour    slow.test    answer    delay=1.5
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    slow.test
    ${reply}=    Wait For DNS Reply    ${req}    timeout=10
    Should Be Equal    ${reply}    DNS_FOUND

Reply With The Wrong Id Is Ignored
    Add DNS Record    wrongid.test    192.0.2.92
    Set DNS Behaviour    wrongid.test    wrong_id    follow=${True}
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    wrongid.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    192.0.2.92

Reply For The Wrong Name Is Ignored
    Add DNS Record    wrongname.test    192.0.2.93
    Set DNS Behaviour    wrongname.test    wrong_name    follow=${True}
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    wrongname.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    192.0.2.93

Truncated Reply Gives DNS_NOTFOUND
    Set DNS Behaviour    tc.test    truncated
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    tc.test
    ${reply}=    Wait For DNS Reply    ${req}    timeout=20    board_time=${True}
    Should Be Equal    ${reply}    DNS_NOTFOUND

Answer Is Cached For Its TTL
    Add DNS Record    cached.test    192.0.2.94    ttl=60
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    cached.test
    Wait For DNS Reply    ${req}
    Close DNS Request    ${req}
    Resolve On Board    ${req}    cached.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${n}=    DNS Queries For    cached.test
    Should Be Equal As Integers    ${n}    1

Cached Answer Expires With Its TTL
    Add DNS Record    short.test    192.0.2.95    ttl=1
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    short.test
    Wait For DNS Reply    ${req}
    Close DNS Request    ${req}
    Sleep    2.2s
    Resolve On Board    ${req}    short.test
    Wait For DNS Reply    ${req}
    ${n}=    DNS Queries For    short.test
    Should Be Equal As Integers    ${n}    2

Dotted Quad Is Found Without A Query
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    192.0.2.200
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND
    ${result}=    DNS Result On Board    ${req}
    Should Be Equal    ${result}[1]    192.0.2.200
    ${n}=    DNS Queries For    192.0.2.200
    Should Be Equal As Integers    ${n}    0

Resolve Again Before Close Gives DNS_INUSE
    Add DNS Record    busy.test    192.0.2.96
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    busy.test
    Wait For DNS Reply    ${req}
    ${rc}=    Resolve On Board    ${req}    busy.test
    Result Should Be    ${rc}    DNS_INUSE
    ${rc}=    Close DNS Request    ${req}
    Result Should Be    ${rc}    DNS_OK
    ${rc}=    Resolve On Board    ${req}    busy.test
    Result Should Be    ${rc}    DNS_OK

No Request Gives DNS_SETUP
    ${req}=    Open DNS Request On Board
    ${result}=    DNS Result On Board    ${req}
    Result Should Be    ${result}[0]    DNS_SETUP
    ${rc}=    Close DNS Request    ${req}
    Result Should Be    ${rc}    DNS_SETUP

Empty Name Gives DNS_ERROR
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    ${EMPTY}
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_ERROR

Name Too Long Gives DNS_ERROR
    ${req}=    Open DNS Request On Board
    ${name}=    Evaluate    ".".join(["a" * 60] * 5)
    Resolve On Board    ${req}    ${name}
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_ERROR

Close While Outstanding Gives No Callback
    Set DNS Behaviour    pending.test    silent
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    pending.test
    Wait For DNS Queries    pending.test
    ${rc}=    Close DNS Request    ${req}
    Result Should Be    ${rc}    DNS_OK
    No DNS Reply Should Arrive    ${req}    timeout=1

No Interface Gives DNS_IF
    Reset Board    network=${False}
    ${req}=    Open DNS Request On Board
    ${rc}=    Resolve On Board    ${req}    board.test
    Result Should Be    ${rc}    DNS_IF
    [Teardown]    Reset Board

Malformed Replies Give DNS_NOTFOUND And The Board Keeps Working
    [Template]    Malformed Reply Gives NOTFOUND
    compression_loop
    pointer_past_end
    label_past_end
    lying_counts
    oversized_name
    label_too_long
    rdlength_past_end
    short_header
    garbage

*** Keywords ***
Malformed Reply Gives NOTFOUND
    [Arguments]    ${kind}
    Set Malformed DNS Reply    ${kind}.test    ${kind}
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    ${kind}.test
    ${reply}=    Wait For DNS Reply    ${req}    timeout=20    board_time=${True}
    Should Be Equal    ${reply}    DNS_NOTFOUND    ${kind}
    Delete DNS Request    ${req}
    Agent Should Answer
