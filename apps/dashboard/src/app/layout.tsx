import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { Shell } from '../components/shell';
import './globals.css';

export const metadata: Metadata = {
  title: 'ddnn dashboard',
  description: 'Devices, live sessions, replay and policy comparison for distributed deep neural networks',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Shell>{children}</Shell>
      </body>
    </html>
  );
}
