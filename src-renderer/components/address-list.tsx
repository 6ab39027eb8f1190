/** Multiaddresses, one per line, breakable anywhere (they are long and have no spaces). */
export function AddressList({ addresses }: { addresses: readonly string[] }) {
  return (
    <ul className="plain-list">
      {addresses.map((address) => (
        <li key={address}>
          <code className="break">{address}</code>
        </li>
      ))}
    </ul>
  );
}
