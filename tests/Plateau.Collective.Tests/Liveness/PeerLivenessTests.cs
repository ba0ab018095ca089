using Xunit.Abstractions;

namespace Plateau.Collective.Tests.Liveness;

/// <summary>
/// Dead, silent and busy peers, told apart with real processes (docs/reliability.md): a killed rank is
/// named at once, a frozen one after <see cref="CollectiveServerOptions.PeerTimeout"/> and not before,
/// and one that gets no CPU for a good part of that deadline is not declared dead at all. Margins are
/// wide on purpose: this suite runs on a saturated 2-core machine.
/// </summary>
[Trait("Category", "Slow")]
public sealed class PeerLivenessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(DataTransport.Socket)]
    [InlineData(DataTransport.Grpc)]
    public async Task AKilledPeerIsNamedByEverySurvivorLongBeforeThePeerTimeout(DataTransport transport)
    {
        const int victim = 2;
        await using var ring = await RankProcesses.StartAsync(world: 4, peerTimeoutSeconds: 30, transport);
        var victimAddress = ring.AddressOf(victim);

        var killedAt = RankProcesses.NowMs();
        ring.Kill(victim);

        foreach (var rank in new[] { 0, 1, 3 })
        {
            var failure = await ring.WaitForAsync(rank, "failed", Patience);
            var detectedAfter = TimeSpan.FromMilliseconds(failure.GetProperty("atMs").GetInt64() - killedAt);
            output.WriteLine($"rank {rank} failed after {detectedAfter.TotalMilliseconds:0} ms naming rank {failure.GetProperty("failedRank").GetInt32()}: {failure.GetProperty("message").GetString()}");
            // Every survivor names the victim: the one receiving from it, the one sending to it, and the one
            // that hears of it only from the others, although each survivor leaves its group the moment it
            // fails (test ranks dispose before they print) and so closes its links to the others right behind
            // its abort.
            Assert.True(victim == failure.GetProperty("failedRank").GetInt32(), $"rank {rank} named rank {failure.GetProperty("failedRank").GetInt32()}, not the killed rank {victim}: {failure.GetProperty("message").GetString()}");
            Assert.Equal(victimAddress, failure.GetProperty("failedAddress").GetString());

            // Seen through the closed connections, not the 30 s deadline (typically tens of milliseconds).
            Assert.True(detectedAfter < TimeSpan.FromSeconds(10), $"rank {rank} named the killed rank after {detectedAfter}");
        }
    }

    [Fact]
    public async Task AFrozenPeerIsDeclaredDeadWhenThePeerTimeoutHasPassedAndNotBefore()
    {
        const int victim = 1;
        const double peerTimeoutSeconds = 8;
        await using var ring = await RankProcesses.StartAsync(world: 3, peerTimeoutSeconds);
        var victimAddress = ring.AddressOf(victim);

        var frozenAt = RankProcesses.NowMs();
        ring.Freeze(victim); // SIGSTOP: its connections stay open and its kernel still answers TCP

        foreach (var rank in new[] { 0, 2 })
        {
            var failure = await ring.WaitForAsync(rank, "failed", Patience);
            var detectedAfter = TimeSpan.FromMilliseconds(failure.GetProperty("atMs").GetInt64() - frozenAt);
            output.WriteLine($"rank {rank} declared the frozen rank dead after {detectedAfter.TotalMilliseconds:0} ms");
            Assert.Equal(victim, failure.GetProperty("failedRank").GetInt32());
            Assert.Equal(victimAddress, failure.GetProperty("failedAddress").GetString());
            // Silence may have begun a little before the freeze (a busy rank sends nothing for a while), so
            // the lower bound is half the deadline: still well above the old 3 s transport default.
            Assert.True(detectedAfter >= TimeSpan.FromSeconds(peerTimeoutSeconds / 2), $"rank {rank} gave up on the frozen rank after {detectedAfter}, long before the {peerTimeoutSeconds} s peer timeout");
            Assert.True(detectedAfter < TimeSpan.FromSeconds(peerTimeoutSeconds + 30), $"rank {rank} took {detectedAfter} to give up on the frozen rank (peer timeout {peerTimeoutSeconds} s)");
        }
    }

    [Fact]
    public async Task APartitionedPeerIsDeclaredDeadByBothNeighboursAfterThePeerTimeoutAndNothingHangs()
    {
        const int victim = 1;
        const double peerTimeoutSeconds = 8;
        // Every byte on the gRPC streams, so cutting the relays cuts the data too.
        await using var ring = await RankProcesses.StartAsync(world: 3, peerTimeoutSeconds, DataTransport.Grpc, throughRelays: true);

        var cutAt = RankProcesses.NowMs();
        ring.Partition(victim); // the victim runs on; its connections stay open but carry nothing

        foreach (var rank in new[] { 0, 2 })
        {
            var failure = await ring.WaitForAsync(rank, "failed", Patience);
            var detectedAfter = TimeSpan.FromMilliseconds(failure.GetProperty("atMs").GetInt64() - cutAt);
            output.WriteLine($"rank {rank} declared the partitioned rank dead after {detectedAfter.TotalMilliseconds:0} ms: {failure.GetProperty("message").GetString()}");
            Assert.Equal(victim, failure.GetProperty("failedRank").GetInt32());
            // Whichever survivor noticed first tells the other, with the address it dials the victim at (each has
            // its own relay here; without relays every rank has the same address for it).
            Assert.Contains(failure.GetProperty("failedAddress").GetString(), new[] { ring.DialAddress(0, victim), ring.DialAddress(2, victim) });
            Assert.True(detectedAfter >= TimeSpan.FromSeconds(peerTimeoutSeconds / 2), $"rank {rank} gave up on the partitioned rank after {detectedAfter}, long before the {peerTimeoutSeconds} s peer timeout");
            Assert.True(detectedAfter < TimeSpan.FromSeconds(peerTimeoutSeconds + 30), $"rank {rank} took {detectedAfter} to give up on the partitioned rank (peer timeout {peerTimeoutSeconds} s)");
        }

        // The cut-off rank does not hang either: its own deadline ends its group.
        var own = await ring.WaitForAsync(victim, "failed", Patience);
        output.WriteLine($"the partitioned rank itself failed after {own.GetProperty("atMs").GetInt64() - cutAt} ms: {own.GetProperty("message").GetString()}");
    }

    [Fact]
    public async Task APeerWithoutCpuForLessThanThePeerTimeoutIsNotDeclaredDead()
    {
        const int victim = 1;
        using var hog = new CpuHog(processes: 4);
        await using var ring = await RankProcesses.StartAsync(world: 3, peerTimeoutSeconds: 20);

        // Eight seconds with no CPU at all (the extreme of a peer starved by its data loaders), while
        // four busy loops compete for the same two cores.
        ring.Freeze(victim);
        await Task.Delay(TimeSpan.FromSeconds(8));
        ring.Thaw(victim);

        var before = Enumerable.Range(0, ring.World).Select(ring.Completed).ToArray();
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (Enumerable.Range(0, ring.World).Any(rank => ring.Completed(rank) < before[rank] + 10))
        {
            for (var rank = 0; rank < ring.World; rank++)
            {
                Assert.False(ring.HasExited(rank) || ring.HasFailed(rank), $"rank {rank} stopped: {ring.Describe(rank)}");
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the ring made no progress after the thaw: {string.Join("; ", Enumerable.Range(0, ring.World).Select(ring.Describe))}");
            await Task.Delay(100);
        }
    }
}
