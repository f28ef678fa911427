*** Settings ***
Documentation     TCPSocket on the board (netservices.md 2.7, 3, 5.2) against the Linux
...               kernel's TCP on the bench host: one test per event and per error code,
...               each provoked for real, and byte-exact bulk transfers.
Library           hil.robot.NetBench
Library           Collections
Suite Setup       Start Board
Test Tags         tcp

*** Variables ***
${PORT}           7000
${HOST_PORT}      7100

*** Test Cases ***
Connect Gives CONNECTED And No WRITEABLE
    Start TCP Service    echo    ${HOST_PORT}
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    ${rc}=    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Result Should Be    ${rc}    TCPSOCKET_OK
    Next TCP Event Should Be    ${sock}    TCPSOCKET_CONNECTED
    No TCP Event Should Arrive    ${sock}

Data Round Trip Through A Host Echo Server
    Start TCP Service    echo    ${HOST_PORT}
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    ${n}=    Send TCP From Board    ${sock}    hello tcp
    Should Be Equal As Integers    ${n}    9
    Wait For TCP Event    ${sock}    TCPSOCKET_WRITEABLE
    Wait For TCP Event    ${sock}    TCPSOCKET_READABLE
    ${r}=    Receive From TCP Socket    ${sock}
    Should Be Equal    ${r}[1]    ${{b"hello tcp"}}

WRITEABLE Each Time The Peer Acknowledges Data
    Start TCP Service    discard    ${HOST_PORT}
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    FOR    ${i}    IN RANGE    3
        Send TCP From Board    ${sock}    chunk ${i}
        Wait For TCP Event    ${sock}    TCPSOCKET_WRITEABLE
    END

Refused Connect Gives CONRST
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    ${rc}=    Connect From Board    ${sock}    ${host}    9
    Result Should Be    ${rc}    TCPSOCKET_OK
    Next TCP Event Should Be    ${sock}    TCPSOCKET_CONRST

Connect To A Vanished Host Gives CONABRT In Board Time
    [Documentation]    Nobody answers 192.0.2.99: SYN retransmissions run out after about
    ...    18 s of board time; the emulator skips the idle time.
    ${sock}=    Open TCP Socket On Board
    ${t0}=    Board Time
    Connect From Board    ${sock}    192.0.2.99    ${HOST_PORT}
    ${t}=    Wait For TCP Event    ${sock}    TCPSOCKET_CONABRT    timeout=60    board_time=${True}
    ${elapsed}=    Evaluate    (${t} - ${t0}) / 1e6
    Should Be True    10 <= ${elapsed} <= 40    gave up after ${elapsed} s of board time

Peer Vanishing Mid Connection Gives CONABRT In Board Time
    [Documentation]    The board's link is cut while it has unacknowledged data: its
    ...    retransmissions (exponential back-off) run out and the connection is aborted.
    ...    Minutes of board time; the emulator skips the idle stretches.
    Start TCP Service    discard    ${HOST_PORT}
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    Cut Board Link
    ${n}=    Send TCP From Board    ${sock}    into the void
    Should Be Equal As Integers    ${n}    13
    Wait For TCP Event    ${sock}    TCPSOCKET_CONABRT    timeout=120    board_time=${True}
    ${n}=    Send TCP From Board    ${sock}    gone
    Result Should Be    ${n}    TCPSOCKET_MEM
    [Teardown]    Restore Board Link

Listener Gets ACCEPT And The Accepted Socket No CONNECTED
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    ${rc}=    Listen On Board    ${l}
    Result Should Be    ${rc}    TCPSOCKET_OK
    ${conn}=    Connect To Board From Host    ${PORT}
    Next TCP Event Should Be    ${l}    TCPSOCKET_ACCEPT
    ${a}=    Accept On Board    ${l}
    Result Should Be    ${a}[0]    TCPSOCKET_OK
    ${host}=    Host IP
    Should Be Equal    ${a}[2]    ${host}
    Set TCP Callback    ${a}[1]
    No TCP Event Should Arrive    ${a}[1]

READABLE Only When Data Lands In An Empty Buffer
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    Send From Host    ${conn}    first
    Wait For TCP Event    ${s}    TCPSOCKET_READABLE
    Send From Host    ${conn}    second
    No TCP Event Should Arrive    ${s}    event=TCPSOCKET_READABLE
    ${r}=    Receive From TCP Socket    ${s}
    Should Be Equal    ${r}[1]    ${{b"firstsecond"}}
    Send From Host    ${conn}    third
    Wait For TCP Event    ${s}    TCPSOCKET_READABLE

Recv With Nothing Buffered Returns Zero
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    ${r}=    Receive From TCP Socket    ${s}
    Should Be Equal As Integers    ${r}[0]    0

Peer FIN Gives DISCONNECTED And Leaves The Socket Half Open
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    Send From Host    ${conn}    last words
    Half Close Host Connection    ${conn}
    Wait For TCP Event    ${s}    TCPSOCKET_DISCONNECTED
    ${r}=    Receive From TCP Socket    ${s}
    Should Be Equal    ${r}[1]    ${{b"last words"}}
    ${n}=    Send TCP From Board    ${s}    still talking
    Should Be Equal As Integers    ${n}    13
    ${back}=    Receive On Host    ${conn}    13
    Should Be Equal    ${back}    ${{b"still talking"}}
    ${rc}=    Close TCP Socket    ${s}
    Result Should Be    ${rc}    TCPSOCKET_OK
    Host Should See End Of Stream    ${conn}

Board Close Sends FIN To The Host
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    Close TCP Socket    ${s}
    Host Should See End Of Stream    ${conn}

Peer Reset Gives CONRST And Drops Unread Data
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    Send From Host    ${conn}    unread
    Wait For TCP Event    ${s}    TCPSOCKET_READABLE
    Close Host Connection    ${conn}    reset=${True}
    Wait For TCP Event    ${s}    TCPSOCKET_CONRST
    ${r}=    Receive From TCP Socket    ${s}
    Result Should Be    ${r}[0]    TCPSOCKET_MEM
    ${n}=    Send TCP From Board    ${s}    too late
    Result Should Be    ${n}    TCPSOCKET_MEM

Peer Resetting Mid Transfer Gives CONRST
    Start TCP Service    discard    ${HOST_PORT}    reset_after=2000
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    Start TCP Stream On Board    ${sock}    source    100000
    Wait For TCP Event    ${sock}    TCPSOCKET_CONRST    timeout=10

Accept On An Empty Queue Gives TCPSOCKET_EMPTY
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    ${a}=    Accept On Board    ${l}
    Result Should Be    ${a}[0]    TCPSOCKET_EMPTY
    Should Be Equal    ${a}[1]    ${None}

Connection Reset Before Accept Gives TCPSOCKET_RST
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    Wait For TCP Event    ${l}    TCPSOCKET_ACCEPT
    Close Host Connection    ${conn}    reset=${True}
    Sleep    0.3s
    ${a}=    Accept On Board    ${l}
    Result Should Be    ${a}[0]    TCPSOCKET_RST

Send On A Never Connected Socket Gives TCPSOCKET_SETUP
    ${sock}=    Open TCP Socket On Board
    Bind TCP Socket    ${sock}    ${PORT}
    ${n}=    Send TCP From Board    ${sock}    nobody
    Result Should Be    ${n}    TCPSOCKET_SETUP

Wrapper Used Again After Close Is A Fresh Unconnected Socket
    [Documentation]    close() forgets the implementation; using the wrapper again makes a
    ...    new one that was never connected.
    ${sock}=    Open TCP Socket On Board
    Bind TCP Socket    ${sock}    ${PORT}
    Close TCP Socket    ${sock}
    ${n}=    Send TCP From Board    ${sock}    again
    Result Should Be    ${n}    TCPSOCKET_SETUP

Second Close Gives TCPSOCKET_SETUP
    ${sock}=    Open TCP Socket On Board
    Bind TCP Socket    ${sock}    ${PORT}
    ${rc}=    Close TCP Socket    ${sock}
    Result Should Be    ${rc}    TCPSOCKET_OK
    ${rc}=    Close TCP Socket    ${sock}
    Result Should Be    ${rc}    TCPSOCKET_SETUP

Bind To A Port In Use Gives TCPSOCKET_INUSE
    ${a}=    Open TCP Socket On Board
    ${b}=    Open TCP Socket On Board
    ${rc}=    Bind TCP Socket    ${a}    ${PORT}
    Result Should Be    ${rc}    TCPSOCKET_OK
    ${rc}=    Bind TCP Socket    ${b}    ${PORT}
    Result Should Be    ${rc}    TCPSOCKET_INUSE

PCB Exhaustion Gives TCPSOCKET_MEM
    [Documentation]    The default profile has 3 TCP connections and 2 listeners (6.4).
    ${rcs}=    Create List
    FOR    ${i}    IN RANGE    6
        ${s}=    Open TCP Socket On Board
        ${rc}=    Bind TCP Socket    ${s}    ${{7200 + ${i}}}
        ${rc}=    Listen On Board    ${s}
        Append To List    ${rcs}    ${rc}
    END
    Should Contain    ${rcs}    ${-65531}

No Interface Gives TCPSOCKET_IF
    Reset Board    network=${False}
    ${sock}=    Open TCP Socket On Board
    ${rc}=    Bind TCP Socket    ${sock}    ${PORT}
    Result Should Be    ${rc}    TCPSOCKET_IF
    [Teardown]    Reset Board

Host Connect To A Closed Port Is Refused
    Connecting To Board Should Be Refused    ${PORT}

Send Returns Zero When The Buffer Is Full
    [Documentation]    The host accepts but never reads, with a tiny receive buffer: the
    ...    window closes and the board's send buffer fills.
    ${acc}=    Start TCP Acceptor    ${HOST_PORT}    rcvbuf=2048
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    ${HOST_PORT}
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    ${conn}=    Accept Board Connection    ${acc}
    ${block}=    Evaluate    b"x" * 1024
    ${results}=    Create List
    FOR    ${i}    IN RANGE    40
        ${n}=    Send TCP From Board    ${sock}    ${block}
        Append To List    ${results}    ${n}
        Exit For Loop If    ${n} == 0
        Sleep    0.02s
    END
    Should Contain    ${results}    ${0}

One MiB From Host To Board Checked With SHA-256
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}    stream=sink
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    ${sha}=    Send Pseudo Random From Host    ${conn}    1048576
    Wait For TCP Event    ${s}    TCPSOCKET_DISCONNECTED    timeout=120
    ${st}=    TCP Stream Status    ${s}
    Should Be Equal As Integers    ${st}[0]    1048576
    Should Be Equal    ${st}[2]    ${sha}

One MiB From Board To Host Checked With SHA-256
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    ${s}=    Wait For Accepted Connection    ${l}
    Start TCP Stream On Board    ${s}    source    1048576
    ${got}=    Receive All On Host    ${conn}    timeout=120
    ${want}=    Source Pattern SHA256    1048576
    Should Be Equal As Integers    ${got}[0]    1048576
    Should Be Equal    ${got}[1]    ${want}

One MiB Echoed Through The Board
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}    stream=echo
    ${conn}=    Connect To Board From Host    ${PORT}
    Wait For Accepted Connection    ${l}
    ${rate}=    Transfer Through Board Echo    ${conn}    1048576
    Log    ${rate} MB/s

Segments With A Bad Checksum Or Impossible Flags Are Dropped
    [Tags]    robustness
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    ${bad}=    Get Device Counter    tcp_bad_checksum
    ${flags}=    Get Device Counter    tcp_bad_flags
    Send Bad TCP Segment To Board    ${PORT}    checksum
    Send Bad TCP Segment To Board    ${PORT}    syn_fin
    Send Bad TCP Segment To Board    ${PORT}    syn_rst
    Ping Board    count=1
    ${bad2}=    Get Device Counter    tcp_bad_checksum
    ${flags2}=    Get Device Counter    tcp_bad_flags
    Should Be Equal As Integers    ${bad2}    ${bad + 1}
    Should Be Equal As Integers    ${flags2}    ${flags + 2}
    No TCP Event Should Arrive    ${l}
    ${conn}=    Connect To Board From Host    ${PORT}
    Wait For TCP Event    ${l}    TCPSOCKET_ACCEPT

Segment To A Closed Port Is Answered With RST
    [Tags]    robustness
    ${before}=    Get Device Counter    tcp_rst_tx
    Connecting To Board Should Be Refused    7999
    ${after}=    Get Device Counter    tcp_rst_tx
    Should Be True    ${after} > ${before}

Board Keeps Answering After A SYN Flood With Heap Back To Baseline
    [Tags]    robustness
    ${l}=    Open TCP Socket On Board
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    ${before}=    Get Device Counter    heap_used
    ${rtts}=    Send SYN Flood To Board    ${PORT}    10000    ping_every=1000
    Length Should Be    ${rtts}    10
    Ping Board    count=2
    Sleep    1s
    Close TCP Socket    ${l}
    ${after}=    Get Device Counter    heap_used
    Should Be True    ${after} <= ${before}    heap ${before} -> ${after} bytes
    Agent Should Answer
