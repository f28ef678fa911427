*** Settings ***
Documentation     Multicast and IGMPv2 (netservices.md 5.1, 6.1; RFC 2236): binding a
...               UDPSocket to a group joins it, the board answers queries, close leaves;
...               and the seed's UDPSocketExample image against host senders/listeners.
Library           hil.robot.NetBench
Suite Setup       Start Board
Test Tags         multicast

*** Variables ***
${GROUP}          239.192.1.100
${PORT}           50000

*** Test Cases ***
Binding To A Group Sends An IGMP Report And A Repeat
    Start Capture
    ${sock}=    Open UDP Socket On Board
    ${rc}=    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Result Should Be    ${rc}    UDPSOCKET_OK
    ${dst}=    Wait For IGMP    report    ${GROUP}
    Should Be Equal    ${dst}    ${GROUP}
    Sleep    0.8s
    ${n}=    Count IGMP    report    ${GROUP}
    Should Be Equal As Integers    ${n}    2

Board Receives A Datagram Sent To Its Group
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Send Multicast From Host    ${GROUP}    ${PORT}    to the group
    ${data}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${data}    ${{b"to the group"}}

Board Does Not Receive Other Groups
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Send Multicast From Host    239.192.1.101    ${PORT}    not for you
    No UDP Event Should Arrive    ${sock}    timeout=0.5

Host Listener Hears The Board's Datagram To The Group
    ${listener}=    Start Multicast Listener    ${GROUP}    ${PORT}
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    ${n}=    Send UDP From Board    ${sock}    Hello world!    ${GROUP}    ${PORT}
    Should Be Equal As Integers    ${n}    12
    ${ip}=    Board IP
    Multicast Listener Should Receive    ${listener}    Hello world!    source=${ip}

General Query Is Answered With A Report
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Sleep    0.8s
    Start Capture
    Send IGMP Query From Host    max_resp_ds=5
    Wait For IGMP    report    ${GROUP}    timeout=2

Group Specific Query Is Answered With A Report
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Sleep    0.8s
    Start Capture
    Send IGMP Query From Host    group=${GROUP}    max_resp_ds=5
    Wait For IGMP    report    ${GROUP}    timeout=2

Close Sends A Leave To All Routers
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}    ip=${GROUP}
    Start Capture
    Close UDP Socket    ${sock}
    ${dst}=    Wait For IGMP    leave    ${GROUP}
    Should Be Equal    ${dst}    224.0.0.2

The Group Stays Joined While Another Socket Uses It
    ${a}=    Open UDP Socket On Board
    ${b}=    Open UDP Socket On Board
    Bind UDP Socket    ${a}    ${PORT}    ip=${GROUP}
    Bind UDP Socket    ${b}    50001    ip=${GROUP}
    Start Capture
    Close UDP Socket    ${a}
    No IGMP Should Be Sent    leave    ${GROUP}    timeout=0.5
    Close UDP Socket    ${b}
    Wait For IGMP    leave    ${GROUP}

UDPSocketExample Sends Hello World To The Group
    [Tags]    example
    ${listener}=    Start Multicast Listener    ${GROUP}    ${PORT}
    Start Board With Image    udp_socket_example_static    name=example
    Wait For Line On Uart    Setting up...    name=example
    Wait For Line On Uart    Setup OK    name=example
    Wait For Line On Uart    Hello world!    timeout=8    name=example
    Multicast Listener Should Receive    ${listener}    Hello world!    timeout=8

UDPSocketExample With DHCP As The Original
    [Tags]    example    dhcp
    Start DHCP Server    pool_start=192.0.2.120    pool_end=192.0.2.129
    ${listener}=    Start Multicast Listener    ${GROUP}    ${PORT}
    Start Board With Image    udp_socket_example    name=example    ip=192.0.2.120
    Wait For Line On Uart    Setup OK    name=example
    DHCP Server Should Receive    REQUEST    name=example
    Multicast Listener Should Receive    ${listener}    Hello world!    timeout=8    source=192.0.2.120

UDPSocketExample Prints What The Host Sends To The Group
    [Tags]    example
    Start Board With Image    udp_socket_example_static    name=example
    Wait For Line On Uart    Setup OK    name=example
    Sleep    0.5s
    Send Multicast From Host    ${GROUP}    ${PORT}    from the host
    ${line}=    Wait For Line On Uart    From 192.0.2.1: from the host    name=example
