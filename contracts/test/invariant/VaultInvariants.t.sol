// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AppVault} from "../../src/AppVault.sol";
import {AppVaultFactory} from "../../src/AppVaultFactory.sol";
import {IDisputeCourt} from "../../src/interfaces/IDisputeCourt.sol";
import {IPodnetMarket} from "../../src/interfaces/IPodnetMarket.sol";
import {Lease, LeaseStatus, Order, OrderStatus} from "../../src/types/MarketTypes.sol";
import {InvariantFixture} from "./InvariantFixture.sol";
import {VaultHandler} from "./VaultHandler.sol";

/// @notice Invariants of the app vaults under random sequences of valid calls (VaultHandler): every app's money is
///         accounted for to the base unit, slots never double-lease, no lease of an app runs outside its slots, no
///         standing approvals, the limits hold, and the market stays solvent.
/// @dev Runs and depth come from the profile (default 64 x 50, ci 128 x 50); any revert of a handler action fails the
///      campaign (fail_on_revert).
contract VaultInvariantsTest is InvariantFixture {
    VaultHandler internal handler;
    bytes4[] internal _selectors;

    function setUp() public override {
        super.setUp();
        AppVaultFactory factory = _deployFactory(address(market), address(court), address(network));
        handler = new VaultHandler(market, token, factory);
        for (uint256 i; i < handler.PROVIDER_COUNT(); ++i) {
            _register(handler.providers(i));
            handler.providerStake(i);
        }

        // Weighted towards the flows whose later steps need earlier ones in the same run.
        _target(VaultHandler.fund.selector, 2);
        _target(VaultHandler.withdraw.selector, 1);
        _target(VaultHandler.replaceSlot.selector, 5);
        _target(VaultHandler.clearSlot.selector, 1);
        _target(VaultHandler.topUp.selector, 3);
        _target(VaultHandler.updateLeaseSpec.selector, 1);
        _target(VaultHandler.createOrder.selector, 2);
        _target(VaultHandler.placeBid.selector, 3);
        _target(VaultHandler.acceptBid.selector, 3);
        _target(VaultHandler.cancelOrder.selector, 1);
        _target(VaultHandler.setLimits.selector, 1);
        _target(VaultHandler.setSpec.selector, 1);
        _target(VaultHandler.providerWithdraw.selector, 2);
        _target(VaultHandler.heartbeat.selector, 2);
        _target(VaultHandler.reportDark.selector, 1);
        _target(VaultHandler.unjail.selector, 1);
        _target(VaultHandler.closeByStranger.selector, 2);
        _target(VaultHandler.releaseCollateral.selector, 1);
        _target(VaultHandler.warp.selector, 3);
        _target(VaultHandler.nodeProbe.selector, 1);
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
        targetContract(address(handler));
    }

    function _target(bytes4 selector, uint256 weight) internal {
        for (uint256 i; i < weight; ++i) {
            _selectors.push(selector);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INVARIANTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Two campaigns, not one per check: forge runs a campaign per invariant function, and every check below runs
    ///      after every call of either campaign anyway. This kept the ci profile at 256 runs x 50 calls near a minute.
    ///      The checks read the market's leases and orders from one snapshot per call, not once per check and app.
    function invariant_money() public view {
        Snapshot memory s = _snapshot();
        _checkVaultBalanceMatchesFlows();
        _checkAppMoneyConserved(s);
        _checkNoStandingApprovals();
        _checkMarketSolvent(s);
        _checkNodeFees();
    }

    function invariant_slotsAndLimits() public view {
        Snapshot memory s = _snapshot();
        _checkSlotsHoldEveryActiveLeaseOnce(s);
        _checkOpenOrdersCounted(s);
        _checkLimitsHeld();
    }

    /// @dev The market's leases and orders after a call: lease `id` is `leases[id - 1]`, order `id` is `orders[id - 1]`.
    struct Snapshot {
        Lease[] leases;
        Order[] orders;
    }

    function _snapshot() internal view returns (Snapshot memory s) {
        s.leases = _allLeases();
        s.orders = _allOrders();
    }

    /// @notice 1. Each app's balance (the vault's token balance) is exactly what was funded, minus what the owner
    ///         withdrew and what the vault paid into leases (deposits, top-ups) and orders, plus what came back: lease
    ///         refunds, dark-provider compensation, cancelled orders' deposits. The flows are what the vault and the
    ///         market said they moved (their events); the balance is the token's.
    function _checkVaultBalanceMatchesFlows() internal view {
        for (uint256 a; a < handler.appCount(); ++a) {
            uint256 inflow = handler.ghost_funded(a) + handler.ghost_leaseRefunds(a) + handler.ghost_compensation(a)
                + handler.ghost_orderRefunds(a);
            uint256 outflow = handler.ghost_withdrawn(a) + handler.ghost_paidIntoLeases(a)
                + handler.ghost_paidIntoOrders(a) + handler.ghost_nodeFees(a);
            assertEq(token.balanceOf(address(handler.apps(a))), inflow - outflow, "app balance != in - out");
        }
    }

    /// @notice 2. Every token an app received (funding plus compensation from slashed stake) is, to the base unit,
    ///         either still in its vault, withdrawn by its owner, paid to a node as a fee, held in one of its leases (unspent, or earned and not
    ///         yet withdrawn), paid to a provider, or escrowed in one of its open orders. Read from the market's
    ///         storage, not from the events of (1).
    function _checkAppMoneyConserved(Snapshot memory s) internal view {
        uint256[] memory leases = handler.vaultLeases();
        for (uint256 a; a < handler.appCount(); ++a) {
            AppVault app = handler.apps(a);
            uint256 held = token.balanceOf(address(app)) + handler.ghost_withdrawn(a) + handler.ghost_nodeFees(a);
            for (uint256 i; i < leases.length; ++i) {
                Lease memory lease = s.leases[leases[i] - 1];
                if (lease.publisher != address(app)) continue;
                held += lease.balance + handler.ghost_settled(leases[i]);
            }
            for (uint256 k; k < s.orders.length; ++k) {
                Order memory order = s.orders[k];
                if (order.publisher == address(app) && order.status == OrderStatus.Open) held += order.deposit;
            }
            assertEq(held, handler.ghost_funded(a) + handler.ghost_compensation(a), "app money not conserved");
        }
    }

    /// @notice 8. Network mode: no day's fees past the app's cap and no fee above the fee per replacement; fees only to
    ///         nodes; the nodes hold exactly the fees the vaults said they paid (their token balances, not the events);
    ///         a dark node, and a node on an app not in network mode, were refused every time; app 0 paid no fee.
    function _checkNodeFees() internal view {
        assertEq(handler.ghost_feeCapViolations(), 0, "node fees past the cap");
        assertEq(handler.ghost_feePayeeViolations(), 0, "fee to someone not a node");
        assertEq(handler.ghost_nodeRightViolations(), 0, "a node acted without the right");
        assertEq(handler.ghost_nodeFees(0), 0, "an app not in network mode paid a node");
        uint256 held;
        for (uint256 i; i < handler.NODE_COUNT(); ++i) {
            held += token.balanceOf(handler.nodes(i));
        }
        assertEq(held, handler.ghost_nodeFees(0) + handler.ghost_nodeFees(1), "node balances != fees paid");
    }

    /// @notice 3. A vault never leaves an allowance standing: each call approves exactly what it pulls.
    function _checkNoStandingApprovals() internal view {
        for (uint256 a; a < handler.appCount(); ++a) {
            address app = address(handler.apps(a));
            assertEq(token.allowance(app, address(market)), 0, "standing approval for the market");
            assertEq(token.allowance(app, address(court)), 0, "standing approval for the court");
        }
    }

    /// @notice 4. Slots: each slot holds a lease of its own app, no lease sits in two slots, and every active lease of
    ///         an app sits in one of its slots (nobody can start one outside the compare-and-swap). The stale
    ///         expectations probed after each slot change were all refused by the compare-and-swap.
    function _checkSlotsHoldEveryActiveLeaseOnce(Snapshot memory s) internal view {
        uint256[] memory leases = handler.vaultLeases();
        for (uint256 i; i < leases.length; ++i) {
            Lease memory lease = s.leases[leases[i] - 1];
            AppVault app = AppVault(lease.publisher);
            uint256 found;
            for (uint256 slot; slot < 3; ++slot) {
                if (app.leaseOf(slot) == leases[i]) ++found;
            }
            assertLe(found, 1, "lease in two slots");
            if (lease.status == LeaseStatus.Active) assertEq(found, 1, "active app lease outside its slots");
        }
        for (uint256 a; a < handler.appCount(); ++a) {
            AppVault app = handler.apps(a);
            for (uint256 slot; slot < 3; ++slot) {
                uint256 leaseId = app.leaseOf(slot);
                if (leaseId != 0) {
                    assertEq(s.leases[leaseId - 1].publisher, address(app), "slot holds foreign lease");
                }
            }
        }
        assertEq(handler.ghost_casViolations(), 0, "a stale compare-and-swap went through");
    }

    /// @notice 5. openOrders counts exactly the app's orders still open in the market.
    function _checkOpenOrdersCounted(Snapshot memory s) internal view {
        for (uint256 a; a < handler.appCount(); ++a) {
            AppVault app = handler.apps(a);
            uint256 open;
            for (uint256 k; k < s.orders.length; ++k) {
                Order memory order = s.orders[k];
                if (order.publisher == address(app) && order.status == OrderStatus.Open) ++open;
            }
            assertEq(app.openOrders(), open, "openOrders != open orders of the app");
        }
    }

    /// @notice 6. Every lease an app started was within its limits and for its spec at the time, and no top-up took a
    ///         lease's unspent escrow past maxDepositPerLease.
    function _checkLimitsHeld() internal view {
        assertEq(handler.ghost_limitViolations(), 0, "lease above the limits");
        assertEq(handler.ghost_specViolations(), 0, "lease for another spec");
        assertEq(handler.ghost_escrowViolations(), 0, "top-up past the escrow cap");
    }

    /// @notice 7. The market still holds exactly its liabilities: lease balances, open orders' deposits, stake, fees
    ///         and the unpaid dark pools.
    function _checkMarketSolvent(Snapshot memory s) internal view {
        address[] memory provs = new address[](handler.PROVIDER_COUNT());
        for (uint256 i; i < provs.length; ++i) {
            provs[i] = handler.providers(i);
        }
        assertEq(
            token.balanceOf(address(market)),
            _marketLiabilities(s.leases, s.orders, provs),
            "market balance != liabilities"
        );
    }

    /// @notice Logs what the last run did (run with -vv to see it).
    function afterInvariant() public view {
        handler.callSummary();
    }
}
