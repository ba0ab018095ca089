namespace Plateau.Data.Datasets;

/// <summary>
/// One sample as read from storage, before decoding. <see cref="Bytes"/> may point into a reusable
/// <see cref="SampleBuffer"/>: it is valid until that buffer is used again.
/// </summary>
/// <param name="Index">Dataset index.</param>
/// <param name="Label">Class index in [0, NumClasses).</param>
/// <param name="Source">Where it came from (file path, "shard.tar:key", "data_batch_1.bin#17"), for error messages.</param>
/// <param name="Payload">Encoded image file or raw RGB pixels.</param>
/// <param name="Bytes">The file bytes or the raw pixels.</param>
/// <param name="RawWidth">Width for <see cref="SamplePayload.RawRgb"/>; 0 otherwise.</param>
/// <param name="RawHeight">Height for <see cref="SamplePayload.RawRgb"/>; 0 otherwise.</param>
public readonly record struct ImageSample(
    int Index,
    int Label,
    string Source,
    SamplePayload Payload,
    ReadOnlyMemory<byte> Bytes,
    int RawWidth = 0,
    int RawHeight = 0);
