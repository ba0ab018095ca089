using System.Buffers.Binary;
using System.Text;
using Plateau.Models.ResNets;
using Plateau.Models.Serialization;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Serialization;

public class SafeTensorsRefusalTests
{
    private static ResNet SmallModel() => ModelRegistry.Create("resnet20_cifar");

    private static byte[] Serialise(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors);
        return stream.ToArray();
    }

    private static StateDictMismatchException LoadExpectingMismatch(ResNet model, byte[] file)
    {
        var before = StateDict.Ordered(model).Select(p => p.Value.clone()).ToList();
        using var stream = new MemoryStream(file);
        var error = Assert.Throws<StateDictMismatchException>(() => ModelWeights.Read(model, stream));
        // Refused files change nothing.
        var after = StateDict.Ordered(model);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.True(before[i].bytes.SequenceEqual(after[i].Value.bytes), $"{after[i].Key} changed although the load was refused");
            before[i].Dispose();
        }
        return error;
    }

    [Fact]
    public void FileMissingATensorIsRefusedNamingIt()
    {
        using var source = SmallModel();
        using var target = SmallModel();
        var file = Serialise(StateDict.Ordered(source).Where(p => p.Key != "layer2.1.bn1.running_mean"));

        var error = LoadExpectingMismatch(target, file);

        Assert.Equal(["layer2.1.bn1.running_mean"], error.Missing);
        Assert.Contains("Missing tensors: layer2.1.bn1.running_mean", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileWithAnExtraTensorIsRefusedNamingIt()
    {
        using var source = SmallModel();
        using var target = SmallModel();
        using var extra = zeros(3);
        var file = Serialise(StateDict.Ordered(source).Append(new("layer4.0.conv1.weight", extra)));

        var error = LoadExpectingMismatch(target, file);

        Assert.Equal(["layer4.0.conv1.weight"], error.Unexpected);
        Assert.Contains("Unexpected tensors: layer4.0.conv1.weight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileWithAWronglyShapedTensorIsRefusedNamingItAndBothShapes()
    {
        using var source = ModelRegistry.Create("resnet20_cifar", new ModelOptions { NumClasses = 100 });
        using var target = SmallModel();
        var file = Serialise(StateDict.Ordered(source));

        var error = LoadExpectingMismatch(target, file);

        Assert.Equal(["fc.weight", "fc.bias"], error.WrongShape);
        Assert.Contains("Tensor 'fc.weight' has shape [100, 64] in the stream but [10, 64] in the model", error.Message, StringComparison.Ordinal);
    }

    private static byte[] WithHeader(string json, int dataBytes = 0)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        return file;
    }

    public static TheoryData<byte[], string> MalformedFiles() => new()
    {
        { [], "shorter than the 8-byte header length" },
        { [1, 2, 3], "shorter than the 8-byte header length" },
        { [0, 0, 0, 0, 0, 0, 0, 0x40], "exceeds" },
        { [16, 0, 0, 0, 0, 0, 0, 0, (byte)'{'], "runs past the end of the file" },
        { WithHeader("{\"a\": "), "not valid JSON" },
        { WithHeader("[1, 2]"), "must be a JSON object" },
        { WithHeader("{\"a\": 5}"), "Tensor 'a': header entry must be an object" },
        { WithHeader("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "Tensor 'a': missing string 'dtype'" },
        { WithHeader("{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1), "Tensor 'a': dtype 'F8_E4M3' is not supported" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4), "Tensor 'a': missing array 'shape'" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4), "Tensor 'a': 'shape' must hold non-negative integers" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8), "Tensor 'a': 'data_offsets' must have 2 entries" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8), "Tensor 'a': data_offsets [8, 0] end before they begin" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8), "Tensor 'a': F32 [3] needs 12 bytes but data_offsets [0, 8] hold 8" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12), "Tensor 'b': data_offsets [4, 12] overlap" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12), "leaving a hole" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4), "File ends after 4 of 8 data bytes" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 12), "4 bytes follow the last tensor's data" },
        { WithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8), "Tensor 'a' appears twice" },
        { WithHeader("{\"__metadata__\": {\"format\": 3}}"), "'__metadata__.format' must be a string" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void MalformedFileIsRefusedSayingWhatIsWrong(byte[] file, string problem)
    {
        using var stream = new MemoryStream(file);
        var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(stream));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedFileOnDiskIsRefusedNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"plateau-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, WithHeader("not json"));
        try
        {
            using var model = SmallModel();
            var error = Assert.Throws<SafeTensorsFormatException>(() => ModelWeights.Load(model, path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
