using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Plateau.Models.Serialization;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Serialization;

public class SafeTensorsRoundTripTests
{
    public static TheoryData<string> AllModels => [.. ModelRegistry.Names];

    [Theory]
    [MemberData(nameof(AllModels))]
    public void ModelWeightsSurviveASafetensorsRoundTripBitForBit(string name)
    {
        manual_seed(1);
        using var source = ModelRegistry.Create(name, new ModelOptions { NumClasses = 11 });
        // Make the buffers non-trivial too (running statistics, num_batches_tracked).
        using (var noGrad = no_grad())
        {
            foreach (var (_, buffer) in StateDict.Ordered(source).Where(p => p.Key.Contains("running", StringComparison.Ordinal)))
            {
                buffer.uniform_(0.5, 1.5);
            }
            foreach (var (_, counter) in StateDict.Ordered(source).Where(p => p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            {
                counter.fill_(123_456_789_012L);
            }
        }
        using var stream = new MemoryStream();
        ModelWeights.Write(source, stream);
        var firstBytes = stream.ToArray();

        manual_seed(2);
        using var target = ModelRegistry.Create(name, new ModelOptions { NumClasses = 11 });
        stream.Position = 0;
        ModelWeights.Read(target, stream);

        var expected = StateDict.Ordered(source);
        var actual = StateDict.Ordered(target);
        Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Key));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Value.dtype, actual[i].Value.dtype);
            Assert.True(expected[i].Value.bytes.SequenceEqual(actual[i].Value.bytes), $"{name}: {expected[i].Key} differs after the round trip");
        }

        using var again = new MemoryStream();
        ModelWeights.Write(target, again);
        Assert.True(again.GetBuffer().AsSpan(0, (int)again.Length).SequenceEqual(firstBytes), $"{name}: writing the loaded model gives different bytes");
    }

    [Fact]
    public void FileLayoutIsLengthPrefixedJsonHeaderAlignedToEightBytesThenPackedData()
    {
        using var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var b = tensor(42L);
        var path = Path.Combine(Path.GetTempPath(), $"plateau-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, [new("a", a), new("b", b)], new Dictionary<string, string> { ["format"] = "pt" });
            var bytes = File.ReadAllBytes(path);
            var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, (8 + headerLength) % 8);
            Assert.Equal(8 + headerLength + 24 + 8, bytes.Length);
            using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength).TrimEnd(' '));
            var root = header.RootElement;
            Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
            Assert.Equal("F32", root.GetProperty("a").GetProperty("dtype").GetString());
            Assert.Equal([2, 3], root.GetProperty("a").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal([0, 24], root.GetProperty("a").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("I64", root.GetProperty("b").GetProperty("dtype").GetString());
            Assert.Equal(0, root.GetProperty("b").GetProperty("shape").GetArrayLength());
            Assert.Equal(5f, BitConverter.ToSingle(bytes, 8 + headerLength + 20));
            Assert.Equal(42L, BitConverter.ToInt64(bytes, 8 + headerLength + 24));

            using var content = SafeTensors.Load(path);
            Assert.Equal("pt", content.Metadata["format"]);
            Assert.Equal(["a", "b"], content.Tensors.Select(t => t.Key));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Int8)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Bool)]
    public void EverySupportedDtypeRoundTripsBitForBit(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var values = (randn(3, 5) * 50).to(dtype);
        var scalar = tensor(7).to(dtype);
        var emptyTensor = zeros(0, 4).to(dtype);
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, [new("values", values), new("scalar", scalar), new("empty", emptyTensor)]);
        stream.Position = 0;
        using var content = SafeTensors.Read(stream);

        Assert.Equal(["values", "scalar", "empty"], content.Tensors.Select(t => t.Key));
        foreach (var ((_, written), (_, read)) in new[] { values, scalar, emptyTensor }.Select(t => (string.Empty, t)).Zip(content.Tensors.Select(t => (t.Key, t.Value))))
        {
            Assert.Equal(written.dtype, read.dtype);
            Assert.Equal(written.shape, read.shape);
            Assert.True(written.bytes.SequenceEqual(read.bytes));
        }
    }
}
