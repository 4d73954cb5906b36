// A contract as the imgopt Laravel package emits it (docs/image-contract.md).
export const contract = {
  src: "/storage/photo/webp-1200.webp",
  width: 4032,
  height: 3024,
  alt: "The harbour at dusk",
  sources: [
    { type: "image/avif", srcset: "/a-320.avif 320w, /a-768.avif 768w" },
    { type: "image/webp", srcset: "/w-320.webp 320w, /w-768.webp 768w" },
  ],
  sizes: "(min-width: 1024px) 50vw, 100vw",
  placeholder: { color: "#7a8b99", data_uri: "data:image/webp;base64,UklGRg==", blurhash: "LEHV6nWB2yk8", thumbhash: null },
};
