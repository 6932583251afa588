// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "forge-std/Vm.sol";

/// @notice Deploys a contract from the release build: the bytecode `forge build` wrote to contracts/out with the
///         optimizer on, the bytes a chain runs (`npm test` deploys the same build to its devnets). The Solidity
///         tests themselves build without the optimizer (script/toolchain/test.sh: a quarter of the compile time), so
///         a `new PodnetMarket(...)` in a test would deploy unoptimized code: other gas, other code size, other bytes
///         than the release. Fixtures deploy through here instead.
/// @dev The external libraries the release build links (contracts/src/libraries) are deployed first and their
///      addresses written over the placeholders solc left in the creation code, as `forge script` does on a chain.
library ReleaseBuild {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev The release build's external libraries, by source: a placeholder for any other fails {creationCode}.
    string private constant LIBRARIES = "contracts/src/libraries/";

    /// @dev Deploys the libraries (an address no test uses).
    address private constant LIBRARY_DEPLOYER = address(uint160(uint256(keccak256("podnet release build libraries"))));

    error UnlinkedLibrary(string contractName, string code);

    /// @notice Deploys `contractName` (its artifact contracts/out/<name>.sol/<name>.json) with the ABI-encoded
    ///         constructor arguments `args`; a constructor's revert is bubbled up unchanged.
    function deploy(string memory contractName, bytes memory args) internal returns (address) {
        return create(creationCode(contractName), args);
    }

    /// @notice The linked creation code of `contractName`, read before a `vm.expectRevert` so that the expected revert
    ///         is the constructor's and not a cheatcode call's.
    function creationCode(string memory contractName) internal returns (bytes memory) {
        string memory json = VM.readFile(artifactPath(contractName));
        string memory code = VM.parseJsonString(json, ".bytecode.object");
        code = link(code, "Guarantees");
        code = link(code, "OrderBook");
        if (VM.indexOf(code, "__$") != type(uint256).max) revert UnlinkedLibrary(contractName, code);
        return VM.parseBytes(code);
    }

    /// @notice Runs `code` with `args` appended as a CREATE from the calling contract, as `new` does.
    function create(bytes memory code, bytes memory args) internal returns (address deployed) {
        bytes memory init = bytes.concat(code, args);
        assembly ("memory-safe") {
            deployed := create(0, add(init, 0x20), mload(init))
            if iszero(deployed) {
                let data := mload(0x40)
                returndatacopy(data, 0, returndatasize())
                revert(data, returndatasize())
            }
        }
    }

    function artifactPath(string memory contractName) private pure returns (string memory) {
        return string.concat("contracts/out/", contractName, ".sol/", contractName, ".json");
    }

    /// @dev Deploys library `name` and writes its address over its placeholders in `code`, if `code` calls it. solc's
    ///      placeholder is `__$` + the first 34 hex digits of keccak256("<source path>:<name>") + `$__`.
    function link(string memory code, string memory name) private returns (string memory) {
        string memory fullName = string.concat(LIBRARIES, name, ".sol:", name);
        string memory placeholder = string.concat("__$", slice(VM.toString(keccak256(bytes(fullName))), 2, 36), "$__");
        if (VM.indexOf(code, placeholder) == type(uint256).max) return code;
        // From an account of its own, as forge deploys a test's libraries: the test contract's nonce, and so the
        // addresses of what it deploys (and the calldata gas of calls naming them), stay what they were with `new`.
        bytes memory libraryCode = creationCode(name);
        VM.prank(LIBRARY_DEPLOYER);
        address library_ = create(libraryCode, "");
        return VM.replace(code, placeholder, slice(VM.toString(library_), 2, 42));
    }

    function slice(string memory text, uint256 start, uint256 end) private pure returns (string memory) {
        bytes memory part = new bytes(end - start);
        for (uint256 i = start; i < end; ++i) {
            part[i - start] = bytes(text)[i];
        }
        return string(part);
    }
}
