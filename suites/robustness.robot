*** Settings ***
Documentation     Bad input on both of the board's links: the serial link to the agent
...               and the Ethernet.  Every case ends with the board still answering.
Library           hil.robot.NetBench
Suite Setup       Start Board
Test Tags         robustness

*** Variables ***
${PORT}           5002

*** Test Cases ***
Garbage On The Serial Link Is Skipped
    Send Raw Bytes To Board    de ad be ef 00 11 22 33 00 ff ff ff
    Agent Should Answer
    ${bad}=    Get Device Counter    agent_bad_frames
    Should Be True    ${bad} >= 1

Truncated Frame Followed By A Good Request Works
    Send Raw Bytes To Board    00 05 01 02 03
    Agent Should Answer

Runt Ethernet Frame Is Dropped And Counted
    [Tags]    emulated
    ${before}=    Get Device Counter    eth_rx_runt
    Inject Frame On Wire    ffffffffffff 02005e000001 0800 4500
    Ping Board    count=1
    ${after}=    Get Device Counter    eth_rx_runt
    Should Be Equal As Integers    ${after}    ${before + 1}

Oversized Ethernet Frame Is Dropped And Counted
    [Tags]    emulated
    ${before}=    Get Device Counter    eth_rx_oversize
    ${frame}=    Evaluate    bytes.fromhex("ffffffffffff02005e0000010800") + bytes(1600)
    Inject Frame On Wire    ${frame}
    Ping Board    count=1
    ${after}=    Get Device Counter    eth_rx_oversize
    Should Be Equal As Integers    ${after}    ${before + 1}

Bad Frame Check Sequence Is Dropped And Counted
    [Tags]    emulated
    ${before}=    Get Device Counter    eth_rx_error
    ${frame}=    Build UDP Frame To Board    bad fcs    ${PORT}
    Inject Frame On Wire    ${frame}    fcs=bad
    Ping Board    count=1
    ${after}=    Get Device Counter    eth_rx_error
    Should Be Equal As Integers    ${after}    ${before + 1}

Board Keeps Answering After A Burst Of Bad Frames
    [Tags]    emulated
    FOR    ${i}    IN RANGE    50
        Inject Frame On Wire    ffffffffffff02005e0000010800    fcs=bad
        Inject Frame On Wire    ffff
    END
    Ping Board    count=3
    Agent Should Answer

Bad IP Checksum Is Dropped And Counted
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    ${before}=    Get Device Counter    ip_bad_checksum
    ${frame}=    Build UDP Frame To Board    broken    ${PORT}    corrupt=ip_checksum
    Send Raw Frame To Board    ${frame}
    Ping Board    count=1
    ${after}=    Get Device Counter    ip_bad_checksum
    Should Be Equal As Integers    ${after}    ${before + 1}
    No UDP Event Should Arrive    ${sock}

Bad UDP Checksum Is Dropped And Counted
    ${sock}=    Open UDP Socket On Board
    Bind UDP Socket    ${sock}    ${PORT}
    ${before}=    Get Device Counter    udp_bad_checksum
    ${frame}=    Build UDP Frame To Board    broken    ${PORT}    corrupt=udp_checksum
    Send Raw Frame To Board    ${frame}
    ${good}=    Build UDP Frame To Board    intact    ${PORT}
    Send Raw Frame To Board    ${good}
    ${data}=    Receive UDP On Board    ${sock}
    Should Be Equal    ${data}    ${{b"intact"}}
    ${after}=    Get Device Counter    udp_bad_checksum
    Should Be Equal As Integers    ${after}    ${before + 1}

LEDs Are Visible To The Host
    Set LED    2    on=${True}
    LED Should Be On    2
    Set LED    2    on=${False}
    LED Should Be Off    2
