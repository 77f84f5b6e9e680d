// AudioWorklet: forwards mono input blocks (the mean of the channels) to the page.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buf = new Float32Array(0);
    this.block = Math.round(sampleRate * 0.02); // ~20 ms per message
  }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length) {
      const n = input[0].length;
      const mono = new Float32Array(n);
      for (const ch of input) for (let i = 0; i < n; i++) mono[i] += ch[i] / input.length;
      const joined = new Float32Array(this.buf.length + n);
      joined.set(this.buf);
      joined.set(mono, this.buf.length);
      this.buf = joined;
      if (this.buf.length >= this.block) {
        this.port.postMessage(this.buf, [this.buf.buffer]);
        this.buf = new Float32Array(0);
      }
    }
    return true;
  }
}
registerProcessor("capture-processor", CaptureProcessor);
