*** Settings ***
Documentation     UDPSocket on the board against the host's own Linux UDP stack
...               (netservices.md 2.6, 3 and 5.1).  Runs unchanged on an emulated or a
...               real board: the bench file decides which.
Library           hil.robot.NetBench
Library           Collections
Suite Setup       Start Board
Test Tags         udp

*** Variables ***
${PORT}           5001
${HOST_PORT}      6001

*** Test Cases ***
Board Answers Ping From The Host
    [Tags]    icmp
    ${rtts}=    Ping Board    count=3
    Length Should Be    ${rtts}    3

Board Receives A Datagram From The Host And Returns It
    ${sock}=    Open UDP Socket On Board
    ${rc}=    Bind UDP Socket    ${sock}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_OK
    Send UDP From Host    hello board    ${PORT}    from_port=${HOST_PORT}
    ${data}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${data}    ${{b"hello board"}}
    ${host}=    Host IP
    ${sent}=    Send UDP From Board    ${sock}    ${data}    ${host}    ${HOST_PORT}
    Should Be Equal As Integers    ${sent}    11
    ${back}=    Receive UDP On Host    ${HOST_PORT}
    Should Be Equal    ${back}    ${{b"hello board"}}

Host Receives A Datagram The Board Sends
    ${port}=    Open UDP Socket On Host
    ${sock}=    Open UDP Socket On Board
    ${host}=    Host IP
    ${sent}=    Send UDP From Board    ${sock}    from the board    ${host}    ${port}
    Should Be Equal As Integers    ${sent}    14
    ${data}=    Receive UDP On Host    ${port}
    Should Be Equal    ${data}    ${{b"from the board"}}

Binding A Port Already Bound Gives UDPSOCKET_INUSE
    ${first}=    Open UDP Socket On Board
    ${second}=    Open UDP Socket On Board
    ${rc}=    Bind UDP Socket    ${first}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_OK
    ${rc}=    Bind UDP Socket    ${second}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_INUSE

Second Close Gives UDPSOCKET_SETUP
    ${sock}=    Open UDP Socket On Board
    ${rc}=    Bind UDP Socket    ${sock}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_OK
    ${rc}=    Close UDP Socket    ${sock}
    Result Should Be    ${rc}    UDPSOCKET_OK
    ${rc}=    Close UDP Socket    ${sock}
    Result Should Be    ${rc}    UDPSOCKET_SETUP

Port Is Free Again After Close
    ${first}=    Open UDP Socket On Board
    ${second}=    Open UDP Socket On Board
    Bind UDP Socket    ${first}    ${PORT}
    Close UDP Socket    ${first}
    ${rc}=    Bind UDP Socket    ${second}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_OK

Board Gets Its Datagram Back From The Host Echo Peer
    [Tags]    peer
    Start UDP Echo Peer    port=7
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    ${host}=    Host IP
    ${sent}=    Send UDP From Board    ${sock}    echo me    ${host}    7
    Should Be Equal As Integers    ${sent}    7
    ${data}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${data}    ${{b"echo me"}}

Socket Pool Exhaustion Gives UDPSOCKET_MEM
    [Documentation]    The default profile has 4 UDP sockets (netservices.md 6.4); the
    ...    fifth socket cannot get one.
    ${rcs}=    Create List
    FOR    ${i}    IN RANGE    5
        ${sock}=    Open UDP Socket On Board
        ${rc}=    Bind UDP Socket    ${sock}    ${{6100 + ${i}}}
        Append To List    ${rcs}    ${rc}
    END
    Should Be Equal    ${rcs}[0:4]    ${{[0, 0, 0, 0]}}
    Result Should Be    ${rcs}[4]    UDPSOCKET_MEM

No Interface Gives UDPSOCKET_IF
    [Documentation]    Before any EthernetNetIf exists there is no default interface.
    Reset Board    network=${False}
    ${sock}=    Open UDP Socket On Board
    ${rc}=    Bind UDP Socket    ${sock}    ${PORT}
    Result Should Be    ${rc}    UDPSOCKET_IF
    [Teardown]    Reset Board

Datagram Above The MTU Is Fragmented On Send
    [Documentation]    The board's MTU is 746: 1500 bytes leave as three fragments, and the
    ...    host kernel reassembles them.
    ${port}=    Open UDP Socket On Host
    ${sock}=    Open UDP Socket On Board
    ${data}=    Evaluate    bytes(i % 253 for i in range(1500))
    ${host}=    Host IP
    ${before}=    Get Device Counter    ip_frag_tx
    ${sent}=    Send UDP From Board    ${sock}    ${data}    ${host}    ${port}
    Should Be Equal As Integers    ${sent}    1500
    ${got}=    Receive UDP On Host    ${port}
    Should Be Equal    ${got}    ${data}
    ${after}=    Get Device Counter    ip_frag_tx
    Should Be Equal As Integers    ${after}    ${before + 3}

Fragmented Datagram From The Host Is Reassembled
    [Documentation]    The host knows the board's MTU (746): its kernel sends 1500 bytes
    ...    in three fragments, which the board puts back together.
    Set Host Route MTU To Board    746
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    ${before}=    Get Device Counter    ip_reassembled
    ${data}=    Evaluate    bytes(i % 241 for i in range(1500))
    Send UDP From Host    ${data}    ${PORT}
    ${got}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${got}    ${data}
    ${after}=    Get Device Counter    ip_reassembled
    Should Be Equal As Integers    ${after}    ${before + 1}

Recvfrom With Nothing Queued Returns Zero
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    ${rc}=    Receive From UDP Socket    ${sock}
    Should Be Equal As Integers    ${rc}    0

Function Callback Form Receives READABLE
    ${sock}=    Open UDP Socket On Board    callback=function
    Bind UDP Socket    ${sock}    ${PORT}
    Send UDP From Host    via function    ${PORT}
    ${data}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${data}    ${{b"via function"}}

Reset On Event Stops Callbacks But Data Still Arrives
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    Set UDP Callback    ${sock}    none
    Send UDP From Host    silent    ${PORT}
    No UDP Event Should Arrive    ${sock}    timeout=0.5
    ${rc}=    Receive From UDP Socket    ${sock}
    Should Be Equal As Integers    ${rc}    6

One READABLE Per Datagram And Boundaries Kept
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    Send UDP From Host    first    ${PORT}    from_port=${HOST_PORT}
    Send UDP From Host    second!    ${PORT}    from_port=${HOST_PORT}
    Wait For UDP Event    ${sock}
    Wait For UDP Event    ${sock}
    ${rc}=    Receive From UDP Socket    ${sock}
    Should Be Equal As Integers    ${rc}    5
    ${rc}=    Receive From UDP Socket    ${sock}
    Should Be Equal As Integers    ${rc}    7
    ${rc}=    Receive From UDP Socket    ${sock}
    Should Be Equal As Integers    ${rc}    0

Datagram To A Closed Port Is Answered With Port Unreachable
    [Documentation]    RFC 1122 3.2.2.1: the host's kernel sees the board's ICMP port
    ...    unreachable and reports it on the connected socket as connection refused.
    UDP To Board Port Should Be Refused    4999
    UDP To Board Port Should Be Refused    65000

A Burst To Closed Ports Is Answered At A Limited Rate
    [Documentation]    Port unreachables are rate-limited (netcfg.h), so a port scan or a
    ...    flood cannot make the board flood the wire with ICMP.
    Start Capture
    Send UDP Burst To Board    100    20000
    ${n}=    Count ICMP From Board    type=3    code=3
    Should Be True    0 < ${n} < 100    ${n} port unreachables for 100 datagrams
