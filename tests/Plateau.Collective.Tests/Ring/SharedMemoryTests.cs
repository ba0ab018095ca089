using Plateau.Collective.Transport.Sockets;

namespace Plateau.Collective.Tests.Ring;

/// <summary>Same-host peers pass payloads through /dev/shm slots; headers, order and failures stay on the data socket.</summary>
public sealed class SharedMemoryTests
{
    private static readonly bool HostHasSharedMemory = OperatingSystem.IsLinux() && Directory.Exists(SharedSlots.Directory);

    [Fact]
    public async Task SameHostPeersUseSharedMemoryAndLeaveNoFileBehind()
    {
        Assert.True(HostHasSharedMemory, "these tests expect a Linux host with /dev/shm");
        var before = PlateauFiles();
        await using (var ring = await RingHarness.StartAsync(3, o => o.StreamsPerPeer = 2))
        {
            Assert.All(ring.Groups, g => Assert.Equal(2, g.SharedMemoryStreamCount));
            // Names are unlinked as soon as the sender answered: nothing to clean up even after a crash.
            await AssertNoNewFileStays(before);
            var buffers = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, (1 << 20) + 3).Select(i => (float)(i % 11) - r).ToArray()).ToArray();
            await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank], ReduceOp.Average));
            for (var i = 0; i < buffers[0].Length; i += 4099)
            {
                Assert.Equal(((3f * (i % 11)) - 3f) / 3f, buffers[0][i], 5);
            }
            Assert.All(buffers, b => Assert.Equal(buffers[0], b)); // bit-identical on every rank
        }
        await AssertNoNewFileStays(before);
    }

    [Fact]
    public async Task EitherSideTurningSharedMemoryOffKeepsPayloadsOnTheSocket()
    {
        await using var ring = await RingHarness.StartAsync(2, o => o.SharedMemory = o.Rank == 1);
        // Rank 0 makes no offer for what it receives, and declines to map rank 1's offer for what it sends.
        Assert.All(ring.Groups, g => Assert.Equal(0, g.SharedMemoryStreamCount));
        Assert.All(ring.Groups, g => Assert.True(g.DataSocketCount > 0));
        var buffers = new[] { Enumerable.Repeat(1f, 300_000).ToArray(), Enumerable.Repeat(2f, 300_000).ToArray() };
        await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
        Assert.All(buffers, b => Assert.All(b, v => Assert.Equal(3f, v)));
    }

    [Fact]
    public async Task BlocksLargerThanASlotTravelInlineBesideSlottedPieces()
    {
        await using var ring = await RingHarness.StartAsync(3, o => o.ChunkBytes = 64 << 10);
        Assert.All(ring.Groups, g => Assert.True(g.SharedMemoryStreamCount > 0));
        // An all-gather block of 1 MiB cannot fit a 64 KiB slot: it goes on the socket, in order with the rest.
        var blocks = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 1 << 20).Select(i => (byte)(i + r)).ToArray()).ToArray();
        var gathered = await Task.WhenAll(ring.Groups.Select((g, rank) => g.AllGatherAsync(blocks[rank])));
        Assert.All(gathered, result => Assert.Equal(blocks, result));
        var buffers = Enumerable.Range(0, 3).Select(r => Enumerable.Repeat((float)r, 100_000).ToArray()).ToArray();
        await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
        Assert.All(buffers, b => Assert.All(b, v => Assert.Equal(3f, v)));
    }

    /// <summary>/dev/shm is shared with the rings of tests running at the same time, whose names exist for the
    /// moment between offer and answer: a new name fails the test only if it is still there after 30 s.</summary>
    private static async Task AssertNoNewFileStays(string[] before)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (PlateauFiles().Except(before).Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Empty(PlateauFiles().Except(before));
    }

    private static string[] PlateauFiles() =>
        HostHasSharedMemory ? Directory.GetFiles(SharedSlots.Directory, "plateau-*") : [];
}
